using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using BatchAspire.Providers;
using BatchAspire.Submitter.Submitting;
using MassTransit;

namespace BatchAspire.Submitter.Consumers;

/// <summary>
/// A user cancel (the intake has already set <c>cancelling</c>): chunks not yet submitted are closed and never
/// submitted, open provider batches are cancelled. Results ends the job <c>cancelled</c> once every chunk is done.
/// </summary>
public sealed class JobCancelRequestedConsumer(IJobStore jobs, JobStopper stopper, ILogger<JobCancelRequestedConsumer> logger)
    : IConsumer<JobCancelRequested>
{
    public async Task Consume(ConsumeContext<JobCancelRequested> context)
    {
        var jobId = context.Message.JobId;
        using var activity = SubmitterTelemetry.Source.StartActivity("cancel job");
        activity?.SetTag(TelemetryTags.JobId, jobId);
        var job = await jobs.GetAsync(jobId, context.CancellationToken);
        if (job is null || job.Status != JobStatus.Cancelling) return;
        var summary = await stopper.StopAsync(jobId, JobStopper.Cancel, context, context.CancellationToken);
        logger.JobCancelled(jobId, summary.ChunksClosed, summary.BatchesCancelled);
    }
}

public sealed class JobCancelRequestedConsumerDefinition : ConsumerDefinition<JobCancelRequestedConsumer>
{
    public JobCancelRequestedConsumerDefinition() => ConcurrentMessageLimit = 4;
}
