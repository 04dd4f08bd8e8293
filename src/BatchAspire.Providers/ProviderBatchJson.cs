using System.Text.Json;
using BatchAspire.Core.Providers;

namespace BatchAspire.Providers;

/// <summary>
/// Reads a provider batch object from the raw JSON: the OpenAI SDK's <c>BatchJob</c> (2.15.0) lacks
/// <c>status</c>, <c>request_counts</c>, <c>usage</c> and <c>errors</c>.
/// </summary>
internal static class ProviderBatchJson
{
    public static ProviderBatchSnapshot Parse(BinaryData json)
    {
        using var document = JsonDocument.Parse(json.ToMemory());
        return Parse(document.RootElement);
    }

    /// <summary>Parses one batch object (also an item of a list page).</summary>
    public static ProviderBatchSnapshot Parse(JsonElement batch)
    {
        if (batch.ValueKind != JsonValueKind.Object ||
            String(batch, "id") is not { } id ||
            String(batch, "status") is not { } status)
        {
            throw new ProviderProtocolException("The provider answered with something that is not a batch object (no id or status).");
        }

        return new ProviderBatchSnapshot
        {
            Id = id,
            Status = status,
            RequestCounts = batch.TryGetProperty("request_counts", out var counts) && counts.ValueKind == JsonValueKind.Object
                ? new ProviderRequestCounts(Int(counts, "total"), Int(counts, "completed"), Int(counts, "failed"))
                : new ProviderRequestCounts(0, 0, 0),
            Usage = batch.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                ? new ProviderUsage(
                    Int(usage, "input_tokens"),
                    usage.TryGetProperty("input_tokens_details", out var input) ? Int(input, "cached_tokens") : 0,
                    Int(usage, "output_tokens"),
                    usage.TryGetProperty("output_tokens_details", out var output) ? Int(output, "reasoning_tokens") : 0,
                    Int(usage, "total_tokens"))
                : null,
            OutputFileId = String(batch, "output_file_id"),
            ErrorFileId = String(batch, "error_file_id"),
            Errors = ParseErrors(batch),
            Metadata = ParseMetadata(batch),
        };
    }

    private static List<ProviderBatchError> ParseErrors(JsonElement batch)
    {
        var list = new List<ProviderBatchError>();
        if (batch.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object &&
            errors.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in data.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) continue;
                list.Add(new ProviderBatchError(
                    String(item, "code"),
                    String(item, "message"),
                    String(item, "param"),
                    item.TryGetProperty("line", out var line) && line.ValueKind == JsonValueKind.Number && line.TryGetInt64(out var n) ? n : null));
            }
        }
        return list;
    }

    private static Dictionary<string, string> ParseMetadata(JsonElement batch)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (batch.TryGetProperty("metadata", out var element) && element.ValueKind == JsonValueKind.Object)
        {
            foreach (var pair in element.EnumerateObject())
            {
                if (pair.Value.ValueKind == JsonValueKind.String) metadata[pair.Name] = pair.Value.GetString()!;
            }
        }
        return metadata;
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long Int(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) &&
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;
}
