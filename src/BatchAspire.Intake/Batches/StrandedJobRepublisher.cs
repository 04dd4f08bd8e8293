using System.Diagnostics;
using BatchAspire.Contracts;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// A crash, or a broker outage, between storing a job's state and publishing its message must not strand it. Jobs
/// left in <c>ba:jobs:validating</c> longer than <see cref="IntakeOptions.RepublishAfter"/> get <c>JobAccepted</c>
/// again; jobs left <c>cancelling</c> that long get <c>JobCancelRequested</c> again (a lost cancel would otherwise let
/// the provider batches run to their end). The workers move a job on, and consumers are idempotent, so a second
/// delivery is harmless. The claim in Redis keeps several intake replicas from all sending it.
/// </summary>
internal sealed class StrandedJobRepublisher(
    IJobStore jobs, IBus bus, IOptions<IntakeOptions> options, TimeProvider time, ILogger<StrandedJobRepublisher> logger)
    : Sweeper(time, logger)
{
    private const int JobsPerClaim = 100;

    protected override TimeSpan Interval => options.Value.RepublishInterval;

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct)
    {
        var validating = await RepublishStaleAsync(ct);
        var cancelling = await RepublishStaleCancelsAsync(ct);
        return validating == JobsPerClaim || cancelling == JobsPerClaim;
    }

    internal Task<int> RepublishStaleAsync(CancellationToken ct) =>
        RepublishAsync(jobs.ClaimStaleValidatingAsync, "republish job", jobId => new JobAccepted { JobId = jobId }, IntakeLog.JobRepublished, ct);

    internal Task<int> RepublishStaleCancelsAsync(CancellationToken ct) =>
        RepublishAsync(jobs.ClaimStaleCancellingAsync, "republish cancel", jobId => new JobCancelRequested { JobId = jobId }, IntakeLog.CancelRepublished, ct);

    private async Task<int> RepublishAsync<TMessage>(Func<DateTimeOffset, int, CancellationToken, Task<IReadOnlyList<string>>> claimStale,
        string spanName, Func<string, TMessage> message, Action<ILogger, string> log, CancellationToken ct) where TMessage : class
    {
        var stale = await claimStale(Time.GetUtcNow() - options.Value.RepublishAfter, JobsPerClaim, ct);
        foreach (var jobId in stale)
        {
            var job = await jobs.GetAsync(jobId, ct);
            using var activity = IntakeTelemetry.Source.StartJobActivity(spanName, job?[JobFields.TraceParent], ActivityKind.Producer);
            activity?.SetTag(TelemetryTags.JobId, jobId);
            await bus.Publish(message(jobId), ct);
            log(Logger, jobId);
        }
        return stale.Count;
    }
}
