using System.Globalization;
using System.Text.Json;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Files;
using BatchAspire.Sandbox.Http;
using BatchAspire.Sandbox.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace BatchAspire.Sandbox.Batches;

/// <summary>The Batches API (docs/openai/batches.md): create, retrieve, list, cancel.</summary>
public static class BatchesApi
{
    public static readonly string[] Endpoints =
    [
        "/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/moderations",
        "/v1/images/generations", "/v1/images/edits", "/v1/videos",
    ];

    private const int DayMs = 86_400_000;

    /// <summary>Metadata keys that override the fault knobs for one batch (documented in docs/sandbox.md).</summary>
    public static class MetadataKnobs
    {
        public const string ValidationDelayMs = "sandbox_validation_delay_ms";
        public const string LineLatencyMs = "sandbox_line_latency_ms";
        public const string Fail429Rate = "sandbox_fail_429_rate";
        public const string Fail500Rate = "sandbox_fail_500_rate";
        public const string ExpireAfterSeconds = "sandbox_expire_after_seconds";
    }

    public static IEndpointRouteBuilder MapBatchesApi(this IEndpointRouteBuilder routes)
    {
        var batches = routes.MapGroup("/batches");
        batches.MapPost("/", CreateAsync);
        batches.MapGet("/", List);
        batches.MapGet("/{batchId}", Retrieve);
        batches.MapPost("/{batchId}/cancel", Cancel);
        return routes;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, BatchStore store, FileStore files, BatchRunner runner,
        FaultState faults, SandboxStats stats, TimeProvider time, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = 1024 * 1024;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
        }
        catch (JsonException)
        {
            return OpenAIErrors.BadRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)");
        }
        using var _ = document;
        var body = document.RootElement;
        if (body.ValueKind != JsonValueKind.Object) return OpenAIErrors.BadRequest("The request body must be a JSON object.");

        if (RequiredString(body, "input_file_id", out var inputFileId) is { } e1) return e1;
        if (RequiredString(body, "endpoint", out var endpoint) is { } e2) return e2;
        var azure = AzureSurface.IsAzurePath(http.Request.Path);
        if (azure) endpoint = AzureSurface.Normalize(endpoint);
        if (!Endpoints.Contains(endpoint))
        {
            return OpenAIErrors.BadRequest(
                $"Invalid value: '{endpoint}'. Supported values are: {string.Join(", ", Endpoints.Select(x => $"'{x}'"))}.", "endpoint", "invalid_value");
        }
        if (RequiredString(body, "completion_window", out var window) is { } e3) return e3;
        if (window != "24h")
        {
            return OpenAIErrors.BadRequest($"Invalid value: '{window}'. Supported values are: '24h'.", "completion_window", "invalid_value");
        }
        var (metadata, metadataError) = ReadMetadata(body);
        if (metadataError is not null) return metadataError;
        var (outputExpiry, expiryError) = ReadOutputExpiry(body);
        if (expiryError is not null) return expiryError;

        var project = http.Project();
        var file = files.Find(project, inputFileId);
        if (file is null) return OpenAIErrors.FileNotFound(inputFileId, "input_file_id");
        if (file.Purpose != "batch")
        {
            return OpenAIErrors.BadRequest(
                $"The input file {inputFileId} has purpose '{file.Purpose}'; batch input files must be uploaded with purpose 'batch'.",
                "input_file_id", "invalid_value");
        }

        var knobs = faults.Snapshot();
        var expireAfter = Knob(metadata, MetadataKnobs.ExpireAfterSeconds) ?? faults.TakeExpiry();
        var createdMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var windowMs = expireAfter is { } seconds ? (long)(seconds * 1000) : DayMs;
        var batch = new BatchState
        {
            Id = Ids.NewBatchId(),
            Project = project,
            Seq = store.NextSeq(),
            Endpoint = endpoint,
            Surface = azure ? BatchState.AzureSurface : null,
            InputFileId = inputFileId,
            Status = BatchStatus.Validating,
            Metadata = metadata,
            CreatedAt = createdMs / 1000,
            ExpiresAt = expireAfter is null ? createdMs / 1000 + DayMs / 1000 : (createdMs + windowMs + 999) / 1000,
            CreatedAtMs = createdMs,
            ExpiresAtMs = createdMs + windowMs,
            OutputExpiresAfter = outputExpiry,
            ValidationDelayMs = (int)(Knob(metadata, MetadataKnobs.ValidationDelayMs) ?? knobs.ValidationDelayMs),
            LineLatencyMs = (int)(Knob(metadata, MetadataKnobs.LineLatencyMs) ?? knobs.LineLatencyMs),
            Fail429Rate = Knob(metadata, MetadataKnobs.Fail429Rate) ?? knobs.LineFail429Rate,
            Fail500Rate = Knob(metadata, MetadataKnobs.Fail500Rate) ?? knobs.LineFail500Rate,
            OutputOutOfOrder = knobs.OutputOutOfOrder,
        };
        store.Add(batch);
        stats.BatchCreated();
        runner.Enqueue(batch);
        return new RawJson(BatchWire.Serialize(batch));
    }

    private static IResult Retrieve(HttpContext http, BatchStore store, SandboxStats stats, string batchId)
    {
        var batch = store.Find(http.Project(), batchId);
        if (batch is null) return OpenAIErrors.BatchNotFound(batchId);
        stats.BatchGet(batchId);
        return new RawJson(BatchWire.Serialize(batch));
    }

    private static IResult List(HttpContext http, BatchStore store, string? limit, string? after)
    {
        var pageSize = 20;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 100))
        {
            return OpenAIErrors.BadRequest("Invalid 'limit': must be an integer between 1 and 100.", "limit", "invalid_value");
        }
        var (page, hasMore) = store.List(http.Project(), pageSize, after);
        return new RawJson(BatchWire.SerializeList(page, hasMore));
    }

    private static IResult Cancel(HttpContext http, BatchStore store, SandboxStats stats, TimeProvider time, string batchId)
    {
        // The body is empty (Python sends Content-Type: application/json with it); it is never read.
        var batch = store.Find(http.Project(), batchId);
        if (batch is null) return OpenAIErrors.BatchNotFound(batchId);
        stats.BatchCancel(batchId);
        byte[] response;
        lock (batch.Gate)
        {
            switch (batch.Status)
            {
                case BatchStatus.Completed or BatchStatus.Failed or BatchStatus.Expired:
                    // Not transient: x-should-retry stops the Python and Node SDKs from retrying a 409 twice.
                    return new OpenAIError(StatusCodes.Status409Conflict, $"Cannot cancel a batch with status '{batch.Status}'.")
                        .WithHeader("x-should-retry", "false");
                case BatchStatus.Cancelling or BatchStatus.Cancelled or BatchStatus.Finalizing:
                    return new RawJson(BatchWire.Serialize(batch));
            }
            batch.Status = BatchStatus.Cancelling;
            batch.CancellingAt = time.GetUtcNow().ToUnixTimeSeconds();
            response = BatchWire.Serialize(batch);   // before the signal: the runner may finish the cancel on this very thread
        }
        store.Save(batch);
        batch.CancelSignal.Cancel();
        return new RawJson(response);
    }

    private static OpenAIError? RequiredString(JsonElement body, string name, out string value)
    {
        value = "";
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return OpenAIErrors.MissingParameter(name);
        if (element.ValueKind != JsonValueKind.String)
        {
            return OpenAIErrors.BadRequest($"Invalid type for '{name}': expected a string, but got {element.ValueKind.ToString().ToLowerInvariant()} instead.", name, "invalid_type");
        }
        value = element.GetString()!;
        return value.Length == 0 ? OpenAIErrors.BadRequest($"Invalid '{name}': empty string.", name, "empty_string") : null;
    }

    private static (Dictionary<string, string>?, OpenAIError?) ReadMetadata(JsonElement body)
    {
        if (!body.TryGetProperty("metadata", out var element) || element.ValueKind == JsonValueKind.Null) return (null, null);
        if (element.ValueKind != JsonValueKind.Object) return (null, Invalid("metadata must be an object of string keys to string values."));
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (metadata.Count == 16) return (null, Invalid("metadata can have at most 16 key-value pairs."));
            if (property.Name.Length > 64) return (null, Invalid($"metadata keys can be at most 64 characters long; '{property.Name[..16]}…' is {property.Name.Length}."));
            if (property.Value.ValueKind != JsonValueKind.String) return (null, Invalid($"metadata value for '{property.Name}' must be a string."));
            var value = property.Value.GetString()!;
            if (value.Length > 512) return (null, Invalid($"metadata value for '{property.Name}' can be at most 512 characters long."));
            metadata[property.Name] = value;
        }
        return (metadata, null);

        static OpenAIError Invalid(string message) => OpenAIErrors.BadRequest("Invalid 'metadata': " + message, "metadata", "invalid_value");
    }

    private static (long?, OpenAIError?) ReadOutputExpiry(JsonElement body)
    {
        if (!body.TryGetProperty("output_expires_after", out var element) || element.ValueKind == JsonValueKind.Null) return (null, null);
        if (element.ValueKind == JsonValueKind.Object &&
            element.TryGetProperty("anchor", out var anchor) && anchor.ValueEquals("created_at"u8) &&
            element.TryGetProperty("seconds", out var seconds) && seconds.TryGetInt64(out var value) &&
            value is >= FileLimits.MinExpirySeconds and <= FileLimits.MaxExpirySeconds)
        {
            return (value, null);
        }
        return (null, OpenAIErrors.BadRequest(
            $"Invalid 'output_expires_after': expected {{\"anchor\": \"created_at\", \"seconds\": {FileLimits.MinExpirySeconds}..{FileLimits.MaxExpirySeconds}}}.",
            "output_expires_after", "invalid_value"));
    }

    private static double? Knob(Dictionary<string, string>? metadata, string key) =>
        metadata is not null && metadata.TryGetValue(key, out var text) &&
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : null;
}
