using System.Text.Json;
using BatchAspire.Core.Pricing;

namespace BatchAspire.Core.Results;

/// <summary>What results needs from one provider result line (docs/openai/lines.md §2): its custom_id, outcome and usage.</summary>
public struct ResultLineInfo
{
    public string? CustomId;

    /// <summary><c>response.status_code</c>; 0 when the line has no response.</summary>
    public int StatusCode;

    /// <summary><c>error.code</c> of a request that was not executed; null when the line has no error object.</summary>
    public string? ErrorCode;

    public bool HasError;

    public TokenUsage Usage;
}

/// <summary>How a result line counts for its request.</summary>
public enum ResultOutcome
{
    /// <summary>2xx: the answer; goes to the output file.</summary>
    Success,

    /// <summary>429, 5xx, or not executed because the batch expired or was cancelled by the provider: worth another attempt.</summary>
    Transient,

    /// <summary>Any other 4xx, or an error the request itself caused: final; goes to the error file.</summary>
    Permanent,
}

/// <summary>Reads a result line with <see cref="Utf8JsonReader"/> (no DOM): custom_id, status, error code and the body's usage.</summary>
public static class ResultLine
{
    public const string BatchExpired = "batch_expired";
    public const string BatchCancelled = "batch_cancelled";

    private static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };

    public static bool TryParse(ReadOnlySpan<byte> line, out ResultLineInfo info)
    {
        info = default;
        var reader = new Utf8JsonReader(line, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("custom_id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String) info.CustomId = reader.GetString();
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("response"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadResponse(ref reader, ref info);
                    else reader.Skip();
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.StartObject) ReadError(ref reader, ref info);
                    else reader.Skip();
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return info.CustomId is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Sorts a line. <paramref name="userCancelled"/>: the job is being cancelled by its user, so a
    /// <c>batch_cancelled</c> line is that cancel's doing, not the provider's.
    /// </summary>
    public static ResultOutcome Classify(in ResultLineInfo info, bool userCancelled = false)
    {
        if (info.StatusCode is >= 200 and < 300 && !info.HasError) return ResultOutcome.Success;
        if (info.StatusCode is 429 or >= 500) return ResultOutcome.Transient;
        if (info.StatusCode != 0) return ResultOutcome.Permanent;
        return info.ErrorCode switch
        {
            BatchExpired => ResultOutcome.Transient,
            BatchCancelled => userCancelled ? ResultOutcome.Permanent : ResultOutcome.Transient,
            _ => ResultOutcome.Permanent,
        };
    }

    private static void ReadResponse(ref Utf8JsonReader reader, ref ResultLineInfo info)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("status_code"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var status)) info.StatusCode = status;
            }
            else if (reader.ValueTextEquals("body"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject) ReadBody(ref reader, ref info);
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadBody(ref Utf8JsonReader reader, ref ResultLineInfo info)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUsage = reader.ValueTextEquals("usage"u8);
            reader.Read();
            if (isUsage && reader.TokenType == JsonTokenType.StartObject) info.Usage = ReadUsage(ref reader);
            else reader.Skip();
        }
    }

    // Chat and completions say prompt/completion tokens; responses says input/output tokens.
    private static TokenUsage ReadUsage(ref Utf8JsonReader reader)
    {
        long input = 0, cached = 0, output = 0, reasoning = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("prompt_tokens"u8) || reader.ValueTextEquals("input_tokens"u8)) input = ReadNumber(ref reader);
            else if (reader.ValueTextEquals("completion_tokens"u8) || reader.ValueTextEquals("output_tokens"u8)) output = ReadNumber(ref reader);
            else if (reader.ValueTextEquals("prompt_tokens_details"u8) || reader.ValueTextEquals("input_tokens_details"u8)) cached = ReadDetail(ref reader, "cached_tokens"u8);
            else if (reader.ValueTextEquals("completion_tokens_details"u8) || reader.ValueTextEquals("output_tokens_details"u8)) reasoning = ReadDetail(ref reader, "reasoning_tokens"u8);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return new TokenUsage(input, cached, output, reasoning);
    }

    private static long ReadNumber(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) ? value : 0;
    }

    private static long ReadDetail(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return 0;
        }
        long value = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(name)) value = ReadNumber(ref reader);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return value;
    }

    private static void ReadError(ref Utf8JsonReader reader, ref ResultLineInfo info)
    {
        info.HasError = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.String) info.ErrorCode = reader.GetString();
                else reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>The top-level <c>custom_id</c> of an input (request) line; "" when it has none.</summary>
    public static string CustomIdOfRequest(ReadOnlySpan<byte> requestLine)
    {
        if (requestLine.StartsWith("\uFEFF"u8)) requestLine = requestLine[3..];
        var reader = new Utf8JsonReader(requestLine, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "";
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCustomId = reader.ValueTextEquals("custom_id"u8);
                reader.Read();
                if (isCustomId) return reader.TokenType == JsonTokenType.String ? reader.GetString()! : "";
                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }
        return "";
    }

    /// <summary>
    /// A result line for a request that was never answered (<c>batch_cancelled</c>, <c>batch_expired</c>, or an
    /// error the provider gave the whole batch), in the error-file format of docs/openai/lines.md §2.
    /// </summary>
    public static byte[] Unanswered(string customId, string code, string message)
    {
        using var buffer = new MemoryStream(128 + customId.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", "batch_req_" + Files.OpaqueIds.Random(24));
            json.WriteString("custom_id", customId);
            json.WriteNull("response");
            json.WriteStartObject("error");
            json.WriteString("code", code);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static string MessageFor(string code) => code switch
    {
        BatchExpired => "This request could not be executed before the completion window expired.",
        BatchCancelled => "This request was not executed because the batch was cancelled.",
        _ => "This request was not executed: the provider could not run its batch.",
    };
}
