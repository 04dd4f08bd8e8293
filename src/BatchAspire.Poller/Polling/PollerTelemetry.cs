using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BatchAspire.Poller.Polling;

/// <summary>The poller's span source and instruments (matched by ServiceDefaults' "BatchAspire.*").</summary>
public sealed class PollerTelemetry
{
    public const string Name = "BatchAspire.Poller";
    public static readonly ActivitySource Source = new(Name);

    public PollerTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        Polls = meter.CreateCounter<long>("batchaspire.poller.polls", unit: "{poll}",
            description: "Provider batch polls, by outcome (applied, stale, error, no_batch) and provider status.");
        Lag = meter.CreateHistogram<double>("batchaspire.poller.lag", unit: "s",
            description: "How late a poll started against its due time.");
        ChunksFinished = meter.CreateCounter<long>("batchaspire.poller.chunks_finished", unit: "{chunk}",
            description: "ChunkFinished messages published, by provider status.");
    }

    public Counter<long> Polls { get; }
    public Histogram<double> Lag { get; }
    public Counter<long> ChunksFinished { get; }

    public void RecordPoll(string outcome, string? providerStatus) =>
        Polls.Add(1, new KeyValuePair<string, object?>("outcome", outcome),
                     new KeyValuePair<string, object?>("provider_status", providerStatus ?? "none"));
}
