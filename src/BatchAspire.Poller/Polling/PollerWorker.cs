using BatchAspire.Contracts;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Telemetry;
using BatchAspire.Providers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// One replica's poll loop. Replicas share work only through the Redis schedule: each claims as many due
/// chunks as it has free slots, GETs each provider batch, and writes the result under the claim's fence.
/// A terminal batch is published as <see cref="ChunkFinished"/> first and unscheduled second, so a crash in
/// between polls and publishes again (consumers are idempotent) and a crash before never loses it.
/// </summary>
internal sealed class PollerWorker(
    PollSchedule schedule,
    ProviderDirectory providers,
    IBus bus,
    PollWake wake,
    IOptions<PollerOptions> options,
    PollerTelemetry telemetry,
    ILogger<PollerWorker> logger) : BackgroundService
{
    private readonly PollerOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var slots = new SemaphoreSlim(_options.MaxConcurrentPolls, _options.MaxConcurrentPolls);
        var idle = new IdleBackoff(_options.IdleDelay, _options.MaxIdleDelay);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken);
                var free = 1;
                while (free < _options.ClaimBatchSize && slots.Wait(0)) free++;

                PollClaimBatch batch;
                wake.Clear();
                try
                {
                    batch = await schedule.ClaimAsync(free, _options.Lease);
                }
                catch (Exception exception) when (!exception.IsHostStopping(stoppingToken))
                {
                    slots.Release(free);
                    logger.ClaimFailed(exception);
                    await Task.Delay(_options.IdleDelay, stoppingToken);
                    continue;
                }

                if (free > batch.Claims.Count) slots.Release(free - batch.Claims.Count);
                foreach (var claim in batch.Claims)
                {
                    _ = PollAndReleaseAsync(claim, slots);
                }

                if (batch.Claims.Count < free)
                {
                    // Nothing more is due: sleep until the earliest due time, backing off while idle; a chunk
                    // scheduled meanwhile or a poll of ours ending wakes the loop sooner.
                    await wake.SleepAsync(idle.SleepAfter(batch), stoppingToken);
                }
                else
                {
                    idle.Reset();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Stop claiming, then let the polls under way finish: holding every slot means none is left.
        for (var i = 0; i < _options.MaxConcurrentPolls; i++) await slots.WaitAsync(CancellationToken.None);
    }

    private async Task PollAndReleaseAsync(PollClaim claim, SemaphoreSlim slots)
    {
        try
        {
            await PollAsync(claim);
        }
        catch (Exception exception)
        {
            // A Redis or bus failure after the GET: the claim is left to lapse, and the chunk is polled again.
            telemetry.RecordPoll("error", null);
            logger.PollCrashed(exception, claim.ChunkId);
        }
        finally
        {
            slots.Release();
            // The chunk is rescheduled (or gone): the loop looks again instead of finishing an idle sleep.
            wake.Set();
        }
    }

    private async Task PollAsync(PollClaim claim)
    {
        using var activity = PollerTelemetry.Source.StartJobActivity("poll chunk", claim.TraceParent);
        activity?.SetTag(TelemetryTags.JobId, claim.JobId);
        activity?.SetTag(TelemetryTags.ChunkId, claim.ChunkId);
        activity?.SetTag(TelemetryTags.ProviderBatchId, claim.ProviderBatchId);
        telemetry.Lag.Record(claim.Lag.TotalSeconds);

        if (claim.ProviderBatchId is not { Length: > 0 } providerBatchId)
        {
            var retryIn = await schedule.DeferAfterErrorAsync(claim, _options.ErrorInterval, _options.MaxInterval);
            telemetry.RecordPoll("no_batch", null);
            logger.MissingProviderBatchId(claim.ChunkId, claim.JobId, retryIn);
            return;
        }

        ProviderBatchSnapshot batch;
        // Bound by the lease, not by shutdown: a poll under way finishes (a GET takes milliseconds), because a
        // GET abandoned halfway would have to be asked again by another replica for the same due time. Giving up
        // before the lease lapses keeps a slow provider from making two replicas poll at once.
        using (var leaseBound = new CancellationTokenSource(claim.Lease * 0.9))
        {
            try
            {
                // The chunk's provider: an Anthropic batch reads as an OpenAI one (ended → completed), so the rest is the same.
                var provider = providers.Get(claim.Provider);
                batch = provider.Anthropic is { } anthropic
                    ? (await anthropic.RetrieveAsync(providerBatchId, leaseBound.Token)).ToProviderSnapshot()
                    : await provider.Batches!.GetBatchAsync(providerBatchId, leaseBound.Token);
            }
            catch (Exception exception)
            {
                var retryIn = await schedule.DeferAfterErrorAsync(claim, _options.ErrorInterval, _options.MaxInterval);
                activity?.SetTag(TelemetryTags.Outcome, "error");
                telemetry.RecordPoll("error", null);
                logger.PollFailed(exception, providerBatchId, claim.ChunkId, retryIn);
                return;
            }
        }

        activity?.SetTag(TelemetryTags.ProviderStatus, batch.Status);
        var interval = PollIntervals.Next(_options, claim.PreviousStatus, claim.PreviousInterval, batch.Status);
        // A terminal chunk stays scheduled one lease ahead until its ChunkFinished is out: if the publish is lost
        // it simply comes due again. A running one may be due sooner than its interval when its progress says so.
        var nextDelay = batch.IsTerminal ? _options.Lease : PollIntervals.NextDelay(_options, interval, new PollProgress(
            batch.Status, batch.RequestCounts.Completed + batch.RequestCounts.Failed, batch.RequestCounts.Total, claim.ClaimedAtMs,
            claim.PreviousDone, claim.PreviousPolledAtMs));
        if (!await schedule.ApplyAsync(claim, batch, interval, nextDelay))
        {
            activity?.SetTag(TelemetryTags.Outcome, "stale");
            telemetry.RecordPoll("stale", batch.Status);
            logger.StaleFence(claim.ChunkId, claim.Fence);
            return;
        }
        activity?.SetTag(TelemetryTags.Outcome, "applied");
        telemetry.RecordPoll("applied", batch.Status);
        logger.Polled(providerBatchId, claim.ChunkId, batch.Status, nextDelay);

        if (batch.IsTerminal)
        {
            PollerTelemetry.RecordProviderRunning(claim, batch.Status);
            await bus.Publish(new ChunkFinished
            {
                JobId = claim.JobId,
                ChunkId = claim.ChunkId,
                ProviderBatchId = providerBatchId,
                ProviderStatus = batch.Status,
            });
            await schedule.CompleteAsync(claim);
            telemetry.ChunksFinished.Add(1, new KeyValuePair<string, object?>("provider_status", batch.Status));
            logger.ChunkFinished(providerBatchId, claim.ChunkId, claim.JobId, batch.Status);
        }
    }
}
