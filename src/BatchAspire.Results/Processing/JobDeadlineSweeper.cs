using BatchAspire.Core.Chunks;
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
    ILogger<JobDeadlineSweeper> logger) : BackgroundService
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Redis unreachable (a restart, a failover): an exception leaving ExecuteAsync would stop the whole
                // results host, and with it every ChunkFinished consumer. Sweep again next round instead.
                logger.SweepRoundFailed(exception);
            }
            try
            {
                await Task.Delay(options.Value.SweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    internal async Task SweepOnceAsync(CancellationToken ct)
    {
        var window = options.Value.CompletionWindowOverride ?? DefaultWindow;
        var now = time.GetUtcNow();
        foreach (var jobId in await results.OpenJobsCreatedBeforeAsync(now - window, 100))
        {
            try
            {
                await SweepJobAsync(jobId, now, ct);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                logger.SweepFailed(exception, jobId);
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
            logger.JobExpiring(jobId, summary.ChunksClosed, summary.BatchesCancelled);
            await finalizer.TryFinalizeAsync(jobId, force: false, bus, ct);
            return;
        }
        var graceOver = DateTimeOffset.FromUnixTimeSeconds(expiringAt) + options.Value.ExpiryGrace <= now;
        await finalizer.TryFinalizeAsync(jobId, force: graceOver, bus, ct);
    }
}
