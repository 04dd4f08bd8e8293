using System.Buffers;
using System.Text.Json;

namespace BatchAspire.Core.Pricing;

/// <summary>
/// One provider's share of a job: the requests whose final result came from it (answered or failed), the tokens its
/// chunks used, and their cost at that provider's route prices (null: no price known).
/// </summary>
public sealed record ProviderLedgerEntry(string Provider, long Completed, long Failed, TokenUsage Usage, JobCost? Cost = null);

/// <summary>
/// The per-provider cost ledger of a job, kept in the job hash as a small JSON array (job field <c>cost_providers</c>,
/// written once when the job ends): a few dozen bytes per provider, whatever the job's size.
/// </summary>
public static class ProviderLedger
{
    /// <summary>How the ledger names the provider of the <c>Provider</c> section (chunks of unrouted models).</summary>
    public const string DefaultProvider = "default";

    public static string Format(IReadOnlyList<ProviderLedgerEntry> entries)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var e in entries)
            {
                json.WriteStartObject();
                json.WriteString("provider", e.Provider);
                json.WriteNumber("completed", e.Completed);
                json.WriteNumber("failed", e.Failed);
                json.WriteNumber("input_tokens", e.Usage.InputTokens);
                json.WriteNumber("cached_tokens", e.Usage.CachedTokens);
                json.WriteNumber("output_tokens", e.Usage.OutputTokens);
                json.WriteNumber("reasoning_tokens", e.Usage.ReasoningTokens);
                if (e.Cost is { } cost)
                {
                    json.WriteNumber("batch_usd", cost.BatchUsd);
                    json.WriteNumber("standard_usd", cost.StandardUsd);
                }
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The ledger <see cref="Format"/> wrote; empty for null, empty or unreadable text.</summary>
    public static IReadOnlyList<ProviderLedgerEntry> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        try
        {
            using var document = JsonDocument.Parse(text);
            var entries = new List<ProviderLedgerEntry>();
            foreach (var e in document.RootElement.EnumerateArray())
            {
                var usage = new TokenUsage(Long(e, "input_tokens"), Long(e, "cached_tokens"), Long(e, "output_tokens"), Long(e, "reasoning_tokens"));
                JobCost? cost = e.TryGetProperty("batch_usd", out var batch) && e.TryGetProperty("standard_usd", out var standard)
                    ? new JobCost(batch.GetDouble(), standard.GetDouble())
                    : null;
                entries.Add(new ProviderLedgerEntry(e.GetProperty("provider").GetString() ?? "", Long(e, "completed"), Long(e, "failed"), usage, cost));
            }
            return entries;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return [];
        }
    }

    private static long Long(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
}
