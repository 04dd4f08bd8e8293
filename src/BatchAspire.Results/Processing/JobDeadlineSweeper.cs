using BatchAspire.Core.Chunks;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Results;
using BatchAspire.Core.Telemetry;
using BatchAspire.Providers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Ends jobs that cannot finish within their completion window. Open jobs sit in <c>ba:jobs:open</c> by creation
/// time, so each sweep reads only those past the window. The first sweep that finds one marks it
/// <c>expiring_at</c> (nothing more is submitted), closes its unsubmitted chunks and cancels its open provider
/// batches; the job ends <c>expired</c> when every chunk has handed back its partial output, or with what it has
/// once <see cref="ResultsOptions.ExpiryGrace"/> is over. Each job's work runs in that job's trace.
/// </summary>
internal sealed class JobDeadlineSweeper(
    ResultStore results,
    IJobStore jobs,
    JobStopper stopper,
    JobFinalizer finalizer,
    IBus bus,
    IOptions<ResultsOptions> options,
    TimeProvider time,
    ILogger<JobDeadlineSweeper> logger) : Sweeper(time, logger)
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    protected override TimeSpan Interval => options.Value.SweepInterval;

    // A job past its window is swept every round until it ends (the grace runs out between rounds), so a full read of
    // open jobs is not "more due": the next round comes after the interval.
    protected override async Task<bool> SweepRoundAsync(CancellationToken ct)
    {
        await SweepOnceAsync(ct);
        return false;
    }

    internal async Task SweepOnceAsync(CancellationToken ct)
    {
        var window = options.Value.CompletionWindowOverride ?? DefaultWindow;
        var now = Time.GetUtcNow();
        foreach (var jobId in await results.OpenJobsCreatedBeforeAsync(now - window, 100))
        {
            try
            {
                await SweepJobAsync(jobId, now, ct);
            }
            catch (Exception exception) when (!exception.IsHostStopping(ct))
            {
                Logger.SweepFailed(exception, jobId);
            }
        }
    }

    private async Task SweepJobAsync(string jobId, DateTimeOffset now, CancellationToken ct)
    {
        var job = await jobs.GetAsync(jobId, ct);
        if (job is null || JobStatus.IsTerminal(job.Status))
        {
            await results.ForgetOpenJobAsync(jobId);
            return;
        }
        using var activity = ResultsTelemetry.Source.StartJobActivity("expire job", job[JobFields.TraceParent]);
        activity?.SetTag(TelemetryTags.JobId, jobId);
        if (job.GetInt64(JobFields.ExpiringAt) is not { } expiringAt)
        {
            // A job being cancelled already stops; it ends cancelled, not expired.
            if (job.Status == JobStatus.Cancelling || !await results.StartExpiryAsync(jobId)) return;
            var summary = await stopper.StopAsync(jobId, JobStopper.Expiry, bus, ct);
            Logger.JobExpiring(jobId, summary.ChunksClosed, summary.BatchesCancelled);
            await finalizer.TryFinalizeAsync(jobId, force: false, ct);
            return;
        }
        var graceOver = DateTimeOffset.FromUnixTimeSeconds(expiringAt) + options.Value.ExpiryGrace <= now;
        await finalizer.TryFinalizeAsync(jobId, force: graceOver, ct);
    }
}
