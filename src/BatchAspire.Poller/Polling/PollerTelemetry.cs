using System.Diagnostics;
using System.Diagnostics.Metrics;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Telemetry;

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

    /// <summary>
    /// The provider's own work on a chunk as one span of the job's trace, from the provider accepting its batch to the
    /// poll that saw it end (both Redis times), and as the <c>provider_running</c> stage. A poll loop has no message to
    /// carry the trace, so the span starts under the job's stored traceparent, like every poll.
    /// </summary>
    public static void RecordProviderRunning(PollClaim claim, string providerStatus)
    {
        if (claim.SubmittedAtMs is not { } submittedAtMs || submittedAtMs > claim.ClaimedAtMs) return;
        var started = DateTimeOffset.FromUnixTimeMilliseconds(submittedAtMs);
        var ended = DateTimeOffset.FromUnixTimeMilliseconds(claim.ClaimedAtMs);
        JobStages.Record(JobStages.ProviderRunning, ended - started);
        using var span = Source.StartJobActivity("provider running", claim.TraceParent, startTime: started);
        span?.SetTag(TelemetryTags.JobId, claim.JobId);
        span?.SetTag(TelemetryTags.ChunkId, claim.ChunkId);
        span?.SetTag(TelemetryTags.ProviderBatchId, claim.ProviderBatchId);
        span?.SetTag(TelemetryTags.ProviderStatus, providerStatus);
        span?.SetEndTime(ended.UtcDateTime);
    }

    public void RecordPoll(string outcome, string? providerStatus) =>
        Polls.Add(1, new KeyValuePair<string, object?>("outcome", outcome),
                     new KeyValuePair<string, object?>("provider_status", providerStatus ?? "none"));
}
