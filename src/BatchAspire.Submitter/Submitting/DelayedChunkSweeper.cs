using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Submitter.Submitting;

/// <summary>
/// Sends due chunks of <c>ba:chunks:delayed</c> (refused creates, capacity refusals, chunks whose submitter died)
/// back through <see cref="ChunkReady"/>. A claim hides a chunk for <see cref="SubmitterOptions.SweepLease"/>; if
/// the message is lost it simply comes due again. Each send starts its span in the job's own trace.
/// </summary>
internal sealed class DelayedChunkSweeper(
    ChunkStore chunks,
    IJobStore jobs,
    IBus bus,
    IOptions<SubmitterOptions> options,
    TimeProvider time,
    ILogger<DelayedChunkSweeper> logger) : Sweeper(time, logger)
{
    private const int ClaimSize = 64;

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct) => await SweepOnceAsync(ct) == ClaimSize;

    internal async Task<int> SweepOnceAsync(CancellationToken ct)
    {
        var due = await chunks.ClaimDelayedAsync(ClaimSize, options.Value.SweepLease);
        foreach (var chunkId in due)
        {
            var jobId = ChunkIds.JobOf(chunkId);
            var job = await jobs.GetAsync(jobId, ct);
            using var activity = SubmitterTelemetry.Source.StartJobActivity("resend delayed chunk", job?[JobFields.TraceParent]);
            activity?.SetTag(TelemetryTags.JobId, jobId);
            activity?.SetTag(TelemetryTags.ChunkId, chunkId);
            await bus.Publish(new ChunkReady { JobId = jobId, ChunkId = chunkId }, ct);
        }
        return due.Count;
    }
}
