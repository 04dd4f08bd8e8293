using System.Text.Json;
using BatchAspire.Intake.Errors;

namespace BatchAspire.Intake.Batches;

/// <summary>The body of <c>POST /batches</c> (docs/openai/batches.md §2), as documented in OpenAPI.</summary>
public sealed class CreateBatchRequest
{
    public required string InputFileId { get; init; }
    public required string Endpoint { get; init; }
    public required string CompletionWindow { get; init; }
    public Dictionary<string, string>? Metadata { get; init; }
    public OutputExpiresAfter? OutputExpiresAfter { get; init; }
}

public sealed class OutputExpiresAfter
{
    public required string Anchor { get; init; }
    public required long Seconds { get; init; }
}

/// <summary>A create request that passed the synchronous checks of docs/openai/batches.md §6.1.</summary>
internal sealed record ValidBatchRequest(
    string InputFileId, string Endpoint, string CompletionWindow, string? MetadataJson, long? OutputExpiresAfterSeconds);

/// <summary>
/// Parses and checks the create body from a <see cref="JsonDocument"/>, so each problem can name its
/// parameter (a typed deserializer would only say "invalid JSON").
/// </summary>
internal static class CreateBatchRequestParser
{
    /// <summary>The endpoints a batch may target (docs/openai/batches.md §2) and whether each needs <c>body.model</c>.</summary>
    public static readonly IReadOnlyDictionary<string, bool> Endpoints = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["/v1/responses"] = true,
        ["/v1/chat/completions"] = true,
        ["/v1/embeddings"] = true,
        ["/v1/completions"] = true,
        ["/v1/moderations"] = false,
        ["/v1/images/generations"] = false,
        ["/v1/images/edits"] = false,
        ["/v1/videos"] = false,
    };

    public static async Task<(ValidBatchRequest? Request, IResult? Error)> ParseAsync(Stream body, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(body, default, ct);
        }
        catch (JsonException)
        {
            return (null, OpenAIErrors.BadRequest(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. " +
                "The BatchAspire API expects a JSON payload, but what was sent was not valid JSON.)"));
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, OpenAIErrors.BadRequest("The request body must be a JSON object."));

            if (RequiredString(root, "input_file_id", out var inputFileId) is { } e1) return (null, e1);
            if (RequiredString(root, "endpoint", out var endpoint) is { } e2) return (null, e2);
            if (!Endpoints.ContainsKey(endpoint))
                return (null, OpenAIErrors.Invalid("endpoint", $"Invalid value for 'endpoint': '{endpoint}'. Supported values are: {string.Join(", ", Endpoints.Keys.Select(k => $"'{k}'"))}."));
            if (RequiredString(root, "completion_window", out var window) is { } e3) return (null, e3);
            if (window != "24h") return (null, OpenAIErrors.Invalid("completion_window", $"Invalid value for 'completion_window': '{window}'. Supported values are: '24h'."));
            if (Metadata(root, out var metadataJson) is { } e4) return (null, e4);
            if (OutputExpiry(root, out var expiry) is { } e5) return (null, e5);
            return (new ValidBatchRequest(inputFileId, endpoint, window, metadataJson, expiry), null);
        }
    }

    private static IResult? RequiredString(JsonElement root, string name, out string value)
    {
        value = "";
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return OpenAIErrors.Missing(name);
        if (element.ValueKind != JsonValueKind.String || element.GetString() is not { Length: > 0 } text)
            return OpenAIErrors.Invalid(name, $"Invalid type for '{name}': expected a non-empty string.");
        value = text;
        return null;
    }

    /// <summary>At most 16 string pairs, keys up to 64 and values up to 512 characters; null allowed.</summary>
    private static IResult? Metadata(JsonElement root, out string? json)
    {
        json = null;
        if (!root.TryGetProperty("metadata", out var metadata) || metadata.ValueKind == JsonValueKind.Null) return null;
        if (metadata.ValueKind != JsonValueKind.Object) return OpenAIErrors.Invalid("metadata", "metadata must be an object of string keys and string values.");
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in metadata.EnumerateObject())
        {
            if (property.Value.ValueKind != JsonValueKind.String)
                return OpenAIErrors.Invalid("metadata", $"Invalid type for 'metadata.{property.Name}': expected a string.");
            if (property.Name.Length > 64)
                return OpenAIErrors.Invalid("metadata", "metadata keys may have at most 64 characters.");
            var value = property.Value.GetString()!;
            if (value.Length > 512)
                return OpenAIErrors.Invalid("metadata", "metadata values may have at most 512 characters.");
            pairs[property.Name] = value;
        }
        if (pairs.Count > 16) return OpenAIErrors.Invalid("metadata", "metadata may have at most 16 key-value pairs.");
        json = JsonSerializer.Serialize(pairs, IntakeJson.Default.DictionaryStringString);
        return null;
    }

    /// <summary><c>{"anchor":"created_at","seconds":3600..2592000}</c>; null allowed.</summary>
    private static IResult? OutputExpiry(JsonElement root, out long? seconds)
    {
        seconds = null;
        if (!root.TryGetProperty("output_expires_after", out var expiry) || expiry.ValueKind == JsonValueKind.Null) return null;
        if (expiry.ValueKind != JsonValueKind.Object
            || !expiry.TryGetProperty("anchor", out var anchor) || anchor.ValueKind != JsonValueKind.String || anchor.GetString() != "created_at")
            return OpenAIErrors.Invalid("output_expires_after", "output_expires_after must be {\"anchor\": \"created_at\", \"seconds\": 3600..2592000}.");
        if (!expiry.TryGetProperty("seconds", out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var s) || s is < 3600 or > 2_592_000)
            return OpenAIErrors.Invalid("output_expires_after", "output_expires_after.seconds must be an integer between 3600 and 2592000.");
        seconds = s;
        return null;
    }
}
