using System.Diagnostics;
using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using BatchAspire.Submitter.Submitting;

namespace BatchAspire.Submitter.Tests;

/// <summary>
/// The provider refuses creates (429, enqueued-token limit): the submitter delays the chunks and sends them again until
/// they are taken, without counting a refusal as an attempt. Every test owns its Sandbox, because fault knobs are global to one.
/// </summary>
public sealed class RefusalTests(RedisFixture redis) : SandboxOwningTests
{
    [Fact]
    public async Task CreatesRefusedWith429AreDelayedAndThenSucceed()
    {
        Sandbox.SetFaults(f =>
        {
            f.ApiFailNext429 = 3;
            f.ApiFailMethod = "POST";
            f.ApiFailPathPrefix = "/v1/batches";
        });
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(100), Ct);
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SubmitterTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem(TelemetryTags.JobId) as string == job.JobId) spans.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(100, ended.GetInt64(JobFields.RequestCompleted));
        // The sweeper's resend starts in the job's trace, and the submit it causes stays in it.
        var jobTrace = ActivityContext.Parse(ended[JobFields.TraceParent]!, null).TraceId;
        Assert.Contains(spans, s => s.OperationName == "resend delayed chunk" && s.TraceId == jobTrace);
        Assert.Contains(spans, s => s.OperationName == "submit chunk" && s.TraceId == jobTrace);
        Assert.Single(await Sandbox.BatchesOfJobAsync(job.JobId, Ct));
        using var stats = JsonDocument.Parse(await Sandbox.GetStatsAsync(Ct));
        Assert.Equal(3, stats.RootElement.GetProperty("api_faults").GetProperty("429").GetInt64());
    }

    [Fact]
    public async Task TokenLimitRefusalsDelayChunksUntilCapacityFrees()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "200" });
        var probe = await pipeline.CreateJobAsync(PipelineJsonl.File(200), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = probe.JobId }, Ct);
        var chunkTokens = (await pipeline.WaitForEndAsync(probe.JobId, TimeSpan.FromSeconds(60))).GetInt64(JobFields.InputTokens)!.Value;
        // Room for one chunk's prompt tokens at a time; each batch runs for a while so the others are refused.
        Sandbox.SetFaults(f =>
        {
            f.EnqueuedTokenLimit = chunkTokens * 3 / 2;
            f.LineLatencyMs = 2;
        });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(600), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(90));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(600, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Null(ended[JobFields.ErrorFileId]);
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Contains(chunks, c => c.Status == JobStatus.Failed);
        Assert.All(chunks, c => Assert.Equal(1, c.Attempt));   // a capacity refusal is not an attempt
        ResultFiles.AssertEveryRequestOnceInInputOrder(600, await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), []);
    }
}
