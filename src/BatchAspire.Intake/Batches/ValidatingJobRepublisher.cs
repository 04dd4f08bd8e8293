using System.Diagnostics;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// A crash between storing a job and publishing <c>JobAccepted</c> must not strand it: jobs left in
/// <c>ba:jobs:validating</c> longer than <see cref="IntakeOptions.RepublishAfter"/> get it again. The
/// submitter removes a job from that set when it moves on, and consumers are idempotent, so a second
/// delivery is harmless. The claim in Redis keeps several intake replicas from all sending it.
/// </summary>
internal sealed class ValidatingJobRepublisher(
    IJobStore jobs, IBus bus, IOptions<IntakeOptions> options, TimeProvider time, ILogger<ValidatingJobRepublisher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RepublishInterval, time);
        do
        {
            try
            {
                await RepublishStaleAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                IntakeLog.RepublishFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task<int> RepublishStaleAsync(CancellationToken ct)
    {
        var stale = await jobs.ClaimStaleValidatingAsync(time.GetUtcNow() - options.Value.RepublishAfter, 100, ct);
        foreach (var jobId in stale)
        {
            var job = await jobs.GetAsync(jobId, ct);
            using var activity = IntakeTelemetry.Source.StartJobActivity("republish job", job?[JobFields.TraceParent], ActivityKind.Producer);
            activity?.SetTag(TelemetryTags.JobId, jobId);
            await bus.Publish(new JobAccepted { JobId = jobId }, ct);
            IntakeLog.JobRepublished(logger, jobId);
        }
        return stale.Count;
    }
}
