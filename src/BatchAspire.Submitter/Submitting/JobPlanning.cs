using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Routing;
using BatchAspire.Core.Telemetry;
using BatchAspire.Providers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Submitter.Submitting;

/// <summary>
/// Splits an accepted job into chunks once (the plan is stored by one script that refuses a second plan), then
/// sends every chunk that still needs a provider batch on as <see cref="ChunkReady"/>. A job cancelled or expired
/// before it was planned gets its chunks closed at once.
/// </summary>
public sealed class JobPlanning(
    ChunkStore chunks,
    IJobStore jobs,
    IFileStore files,
    JobStopper stopper,
    ProviderDirectory providers,
    IOptions<SubmitterOptions> options,
    SubmitterTelemetry telemetry,
    ILogger<JobPlanning> logger)
{
    private const string EmbeddingsEndpoint = "/v1/embeddings";

    public async Task PlanAsync(string jobId, IPublishEndpoint publish, CancellationToken ct)
    {
        using var activity = SubmitterTelemetry.Source.StartActivity("plan job");
        using var stage = JobStages.Time(JobStages.Plan);
        activity?.SetTag(TelemetryTags.JobId, jobId);
        var job = await jobs.GetAsync(jobId, ct);
        if (job is null || JobStatus.IsTerminal(job.Status) || job[JobFields.InputFileId] is not { } inputFileId
            || await files.GetAsync(inputFileId, ct) is not { } input)
        {
            logger.JobNotPlannable(jobId);
            return;
        }

        var existing = await chunks.ListAsync(jobId);
        IReadOnlyList<PlannedChunk> plan = [];
        if (existing.Count == 0)
        {
            var (maxLines, maxBytes) = Caps(job[JobFields.Model]);
            var lengths = files.ReadLineLengthsAsync(inputFileId, 0, input.Lines, ct);
            plan = job[JobFields.Endpoint] == EmbeddingsEndpoint
                ? await ChunkPlanner.PlanAsync(ChunkPlanner.WithEmbeddingInputs(lengths, files.ReadLinesAsync(inputFileId, 0, input.Lines, ct), ct),
                    maxLines, maxBytes, options.Value.MaxEmbeddingInputsPerChunk, ct)
                : await ChunkPlanner.PlanAsync(lengths, maxLines, maxBytes, ct);
        }
        var outcome = await chunks.PlanAsync(jobId, input.Lines, plan);
        if (outcome.Result == PlanResult.Planned)
        {
            telemetry.ChunksPlanned.Add(outcome.Chunks);
            logger.Planned(jobId, outcome.Chunks);
        }
        if (outcome.Result is not (PlanResult.Planned or PlanResult.AlreadyPlanned)) return;

        job = await jobs.GetAsync(jobId, ct);
        if (job is not null && (job.Status == JobStatus.Cancelling || job[JobFields.ExpiringAt] is not null))
        {
            await stopper.StopAsync(jobId, job[JobFields.ExpiringAt] is not null ? JobStopper.Expiry : JobStopper.Cancel, publish, ct);
            return;
        }

        foreach (var chunkId in await chunks.ListAsync(jobId))
        {
            var chunk = await chunks.GetAsync(chunkId);
            if (chunk is null || chunk.ProviderBatchId is not null || chunk.IsClosed) continue;
            await publish.Publish(new ChunkReady { JobId = jobId, ChunkId = chunkId }, ct);
        }
    }

    /// <summary>
    /// A chunk's caps: a routed model's are the smallest of its route's providers (so any chunk fits whichever provider
    /// of the route takes it); an unrouted model's are the submitter's settings, as before routing. An openai or azure
    /// provider sent a longer model name than the lines' gets each line that much longer, so its byte cap leaves room for it.
    /// </summary>
    private (int Lines, long Bytes) Caps(string? model)
    {
        var route = providers.RouteOf(model);
        if (route is [{ Provider.Settings: null }]) return (options.Value.MaxLinesPerChunk, options.Value.MaxBytesPerChunk);
        var lines = route.Min(step => step.Provider.Settings!.LinesCap);
        return (lines, route.Min(step => Math.Max(2, step.Provider.Settings!.BytesCap - (long)lines * Growth(step))));

        int Growth(RouteStep step) =>
            step.Model is { } renamed && model is not null && ProviderKinds.IsOpenAICompatible(step.Provider.Kind) ? LineModelRewriter.Growth(model, renamed) : 0;
    }
}
