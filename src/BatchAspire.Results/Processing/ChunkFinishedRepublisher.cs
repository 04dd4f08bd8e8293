using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Results;
using BatchAspire.Core.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Announces a chunk's end again when its <see cref="ChunkFinished"/> was lost. The poller publishes it once and then
/// unschedules the chunk, so a message the broker itself loses (a purged queue, a lost disk) would leave the job
/// <c>in_progress</c> for ever. The poller's last step lists the chunk in <c>ba:chunks:finished</c>; a results pass
/// shows life there when it starts and while it works, and the script that stores the chunk's results takes it off.
/// A chunk quiet for <see cref="ResultsOptions.RepublishFinishedAfter"/> is claimed (one replica takes it) and
/// announced again; a chunk whose job ended, or that is gone, is forgotten. Results completes a chunk once, so the
/// original message arriving after all changes nothing.
/// </summary>
internal sealed class ChunkFinishedRepublisher(
    ResultStore results,
    ChunkStore chunks,
    IJobStore jobs,
    IBus bus,
    IOptions<ResultsOptions> options,
    ResultsTelemetry telemetry,
    TimeProvider time,
    ILogger<ChunkFinishedRepublisher> logger) : Sweeper(time, logger)
{
    private const int ChunksPerClaim = 100;

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct) => await RepublishQuietAsync(ct) == ChunksPerClaim;

    /// <summary>One round: claims the quiet finished chunks and announces each again; returns how many it claimed.</summary>
    internal async Task<int> RepublishQuietAsync(CancellationToken ct)
    {
        var quietFor = options.Value.RepublishFinishedAfter;
        var claimed = await results.ClaimQuietFinishedChunksAsync(ChunksPerClaim, quietFor);
        foreach (var chunkId in claimed)
        {
            var chunk = await chunks.GetAsync(chunkId);
            var job = chunk is null ? null : await jobs.GetAsync(chunk.JobId, ct);
            if (chunk is null || job is null || chunk.ResultsDone || JobStatus.IsTerminal(job.Status)
                || chunk.ProviderBatchId is not { Length: > 0 } providerBatchId)
            {
                // Nothing will read this chunk's results any more (a job that ended without them: cancelled, expired).
                await results.ForgetFinishedChunkAsync(chunkId);
                continue;
            }
            using var activity = ResultsTelemetry.Source.StartJobActivity("republish chunk finished", job[JobFields.TraceParent]);
            activity?.SetTag(TelemetryTags.JobId, chunk.JobId);
            activity?.SetTag(TelemetryTags.ChunkId, chunkId);
            activity?.SetTag(TelemetryTags.ProviderBatchId, providerBatchId);
            await bus.Publish(new ChunkFinished
            {
                JobId = chunk.JobId,
                ChunkId = chunkId,
                ProviderBatchId = providerBatchId,
                ProviderStatus = chunk.Status ?? "",
            }, ct);
            telemetry.FinishedRepublished.Add(1);
            Logger.ChunkFinishedRepublished(chunkId, chunk.JobId, providerBatchId, quietFor);
        }
        return claimed.Count;
    }
}
