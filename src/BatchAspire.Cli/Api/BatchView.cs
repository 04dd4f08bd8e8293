using System.Text.Json;

namespace BatchAspire.Cli.Api;

/// <summary>One of a batch's <c>errors.data</c> items (line is 1-based where the server gives one).</summary>
public sealed record BatchProblem(string? Code, string Message, long? Line);

/// <summary>
/// Chunk counts, read only when a server's batch object carries a <c>chunks</c> object (plain OpenAI has none).
/// Any of its numbers may be missing.
/// </summary>
public sealed record ChunkCounts(long? Total, long? Open, long? Done);

/// <summary>
/// One provider's share of a routed batch (BatchAspire's <c>cost.providers</c>): requests whose final result came from it
/// and what they cost there. Any number may be missing.
/// </summary>
public sealed record ProviderShare(string Provider, long? Completed, long? Failed, double? CostUsd);

/// <summary>
/// A batch object read tolerantly: the OpenAI fields every compatible server sends, plus extras a server may add
/// (BatchAspire's <c>cost</c>); a missing or odd field reads as unknown instead of failing the command.
/// </summary>
public sealed record BatchView(
    string Id,
    string Status,
    string? Endpoint,
    string? Model,
    string? InputFileId,
    string? OutputFileId,
    string? ErrorFileId,
    long Total,
    long Completed,
    long Failed,
    long? CreatedAt,
    IReadOnlyList<BatchProblem> Errors,
    IReadOnlyDictionary<string, string> Metadata,
    double? CostUsd,
    double? StandardCostUsd,
    ChunkCounts? Chunks,
    IReadOnlyList<ProviderShare>? Providers = null)
{
    public bool IsTerminal => Status is "completed" or "failed" or "expired" or "cancelled";

    /// <summary>Requests with a final answer, done or failed.</summary>
    public long Finished => Completed + Failed;

    public static BatchView Read(JsonElement batch)
    {
        var counts = Child(batch, "request_counts");
        var cost = Child(batch, "cost");
        var chunks = Child(batch, "chunks");
        return new BatchView(
            Id: String(batch, "id") ?? "",
            Status: String(batch, "status") ?? "unknown",
            Endpoint: String(batch, "endpoint"),
            Model: String(batch, "model"),
            InputFileId: String(batch, "input_file_id"),
            OutputFileId: String(batch, "output_file_id"),
            ErrorFileId: String(batch, "error_file_id"),
            Total: Long(counts, "total") ?? 0,
            Completed: Long(counts, "completed") ?? 0,
            Failed: Long(counts, "failed") ?? 0,
            CreatedAt: Long(batch, "created_at"),
            Errors: ReadErrors(batch),
            Metadata: ReadMetadata(batch),
            CostUsd: Double(cost, "batch_usd"),
            StandardCostUsd: Double(cost, "standard_usd"),
            Chunks: chunks is { } c ? new ChunkCounts(Long(c, "total"), Long(c, "open"), Long(c, "done")) : null,
            Providers: ReadProviders(cost));
    }

    private static IReadOnlyList<ProviderShare> ReadProviders(JsonElement? cost) =>
        cost is { } c && c.TryGetProperty("providers", out var providers) && providers.ValueKind == JsonValueKind.Array
            ? [.. providers.EnumerateArray()
                .Where(item => item.ValueKind == JsonValueKind.Object && String(item, "provider") is not null)
                .Select(item => new ProviderShare(String(item, "provider")!, Long(item, "completed"), Long(item, "failed"), Double(item, "batch_usd")))]
            : [];

    private static IReadOnlyList<BatchProblem> ReadErrors(JsonElement batch)
    {
        if (Child(batch, "errors") is not { } errors || !errors.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            return [];
        }
        return [.. data.EnumerateArray()
            .Where(item => item.ValueKind == JsonValueKind.Object)
            .Select(item => new BatchProblem(String(item, "code"), String(item, "message") ?? "", Long(item, "line")))];
    }

    private static IReadOnlyDictionary<string, string> ReadMetadata(JsonElement batch) =>
        Child(batch, "metadata") is { } metadata
            ? metadata.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
            : new Dictionary<string, string>();

    private static JsonElement? Child(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : null;

    private static string? String(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static long? Long(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)
            ? number
            : null;

    private static double? Double(JsonElement? element, string name) =>
        element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
            ? number
            : null;
}
