using System.Buffers;
using System.Text.Json;
using BatchAspire.Sandbox.Executors;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Batches;

public sealed record ValidationResult(long Requests, string? Model, List<BatchError> Errors, long PromptTokens);

/// <summary>
/// The asynchronous checks of docs/openai/batches.md §6.2, in one streaming pass with <see cref="Utf8JsonReader"/>
/// (no document is built): JSON validity, custom_id, method, url, body, one model, duplicates, limits.
/// </summary>
public static class LineValidator
{
    public const int MaxRequests = 50_000;
    public const int MaxEmbeddingInputs = 50_000;
    public const int MaxReportedErrors = 100;

    /// <param name="azure">
    /// A batch of the Azure surface: up to <see cref="Http.AzureSurface.MaxRequests"/> lines, and a line's <c>url</c> may
    /// leave out <c>/v1</c> (<c>/chat/completions</c>), as Azure's guides write it.
    /// </param>
    public static ValidationResult Validate(string path, string endpoint, TokenCounter? tokens, string? refuseCustomIdsContaining = null,
        bool azure = false)
    {
        var maxRequests = azure ? Http.AzureSurface.MaxRequests : MaxRequests;
        var errors = new List<BatchError>();
        var customIds = new HashSet<string>(StringComparer.Ordinal);
        string? model = null;
        long requests = 0, embeddingInputs = 0, promptTokens = 0;
        var modelOptional = endpoint == "/v1/moderations";

        using var reader = new JsonlReader(path);
        while (true)
        {
            if (!reader.TryReadLine(out var line))
            {
                if (!reader.Fill()) break;
                continue;
            }
            if (JsonlReader.IsBlank(line.Span)) continue;
            requests++;
            if (requests > maxRequests)
            {
                errors.Insert(0, new BatchError("too_many_tasks",
                    $"The batch input file contains more than the maximum of {maxRequests:N0} requests.", null, null));
                break;
            }
            var lineNumber = reader.LineNumber;
            var parsed = Parse(line.Span, tokens);
            var error = parsed.Error;
            if (error is null)
            {
                if (!customIds.Add(parsed.CustomId!))
                {
                    error = ("duplicate_custom_id", $"The custom_id '{parsed.CustomId}' is used by more than one request in this file.", "custom_id");
                }
                else if (!string.IsNullOrEmpty(refuseCustomIdsContaining)
                         && parsed.CustomId!.Contains(refuseCustomIdsContaining, StringComparison.Ordinal))
                {
                    error = ("invalid_request", "This request was refused by the provider's validation (fault knob refuse_custom_ids_containing).", "custom_id");
                }
                else if ((azure && parsed.Url is not null ? Http.AzureSurface.Normalize(parsed.Url) : parsed.Url) != endpoint)
                {
                    error = ("url_mismatch", $"The URL provided for this request does not prefix-match the batch endpoint '{endpoint}'.", "url");
                }
                else if (parsed.Model is null && !modelOptional)
                {
                    error = ("missing_required_parameter", "Missing required parameter: 'body.model'.", "body.model");
                }
                else if (parsed.Model is not null && model is not null && parsed.Model != model)
                {
                    error = ("model_mismatch",
                        $"All requests in a batch must use the same model: this line uses '{parsed.Model}', earlier lines use '{model}'.", "body.model");
                }
            }
            if (error is { } e)
            {
                if (errors.Count < MaxReportedErrors) errors.Add(new BatchError(e.Code, e.Message, e.Param, lineNumber));
                continue;
            }
            model ??= parsed.Model;
            embeddingInputs += parsed.Inputs;
            promptTokens += parsed.Tokens;
        }

        if (requests == 0)
        {
            errors.Add(new BatchError("empty_file", "The batch input file is empty. Please provide at least one request.", null, null));
        }
        else if (endpoint == "/v1/embeddings" && embeddingInputs > MaxEmbeddingInputs)
        {
            errors.Insert(0, new BatchError("too_many_tasks",
                $"Embedding batches are limited to {MaxEmbeddingInputs:N0} embedding inputs across all requests.", null, null));
        }
        return new ValidationResult(requests, model, errors, promptTokens);
    }

    private readonly record struct ParsedLine(
        string? CustomId, string? Url, string? Model, long Inputs, long Tokens, (string Code, string Message, string? Param)? Error);

    private static ParsedLine Parse(ReadOnlySpan<byte> line, TokenCounter? tokens)
    {
        string? customId = null, method = null, url = null, model = null;
        bool hasCustomId = false, hasBody = false, streaming = false;
        long inputs = 0, tokenCount = 0;
        (string, string, string?)? typeError = null;
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new(null, null, null, 0, 0, ("invalid_json_line", "This line is not a JSON object.", null));
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("custom_id"u8))
                {
                    reader.Read();
                    hasCustomId = true;
                    if (reader.TokenType == JsonTokenType.String) customId = reader.GetString();
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("method"u8))
                {
                    reader.Read();
                    method = reader.TokenType == JsonTokenType.String ? reader.GetString() : "";
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("url"u8))
                {
                    reader.Read();
                    url = reader.TokenType == JsonTokenType.String ? reader.GetString() : "";
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("body"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        typeError ??= ("invalid_value", "Invalid 'body': expected a JSON object.", "body");
                        reader.Skip();
                        continue;
                    }
                    hasBody = true;
                    ParseBody(ref reader, tokens, ref model, ref inputs, ref tokenCount, ref streaming);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            while (reader.Read()) { }   // anything after the object makes the reader throw
        }
        catch (JsonException)
        {
            return new(null, null, null, 0, 0, ("invalid_json_line", "This line is not parseable as valid JSON.", null));
        }

        (string, string, string?)? error =
            !hasCustomId ? ("missing_required_parameter", "Missing required parameter: 'custom_id'.", "custom_id")
            : string.IsNullOrEmpty(customId) ? ("invalid_value", "Invalid 'custom_id': expected a non-empty string.", "custom_id")
            : method is null ? ("missing_required_parameter", "Missing required parameter: 'method'.", "method")
            : method != "POST" ? ("invalid_value", $"Invalid 'method': '{method}'. Only POST is supported.", "method")
            : url is null ? ("missing_required_parameter", "Missing required parameter: 'url'.", "url")
            : typeError is not null ? typeError
            : !hasBody ? ("missing_required_parameter", "Missing required parameter: 'body'.", "body")
            : streaming ? ("invalid_value", "Streaming is not supported by the Batch API.", "body.stream")
            : null;
        return new(customId, url, model, inputs, tokenCount, error);
    }

    private static void ParseBody(ref Utf8JsonReader reader, TokenCounter? tokens, ref string? model, ref long inputs, ref long tokenCount, ref bool streaming)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth))
        {
            if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != depth + 1) continue;
            if (reader.ValueTextEquals("model"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) model = reader.GetString();
                else reader.Skip();
            }
            else if (reader.ValueTextEquals("stream"u8))
            {
                reader.Read();
                streaming = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("input"u8))
            {
                reader.Read();
                inputs += CountInputs(ref reader, tokens, ref tokenCount);
            }
            else
            {
                reader.Read();
                if (tokens is null) reader.Skip();
                else tokenCount += CountStringTokens(ref reader, tokens);
            }
        }
    }

    private static long CountInputs(ref Utf8JsonReader reader, TokenCounter? tokens, ref long tokenCount)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            if (tokens is not null) tokenCount += CountStringTokens(ref reader, tokens);
            else reader.Skip();
            return 1;
        }
        var depth = reader.CurrentDepth;
        long count = 0;
        var tokenArray = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.CurrentDepth != depth + 1) continue;
            if (reader.TokenType == JsonTokenType.Number) tokenArray = true;   // one input given as token ids
            count++;
            if (tokens is not null) tokenCount += CountStringTokens(ref reader, tokens);
            else if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip();
        }
        return tokenArray ? 1 : count;
    }

    /// <summary>Counts the tokens of every string value in the current value (used only when a token limit is set).</summary>
    private static long CountStringTokens(ref Utf8JsonReader reader, TokenCounter tokens)
    {
        if (reader.TokenType == JsonTokenType.String) return CountOne(ref reader, tokens);
        if (reader.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject)) return 0;
        var depth = reader.CurrentDepth;
        long count = 0;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.String) count += CountOne(ref reader, tokens);
        }
        return count;
    }

    private static long CountOne(ref Utf8JsonReader reader, TokenCounter tokens)
    {
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(length, 1));
        try
        {
            var written = reader.CopyString(chars);
            return tokens.Count(chars.AsSpan(0, written));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
