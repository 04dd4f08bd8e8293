using System.Diagnostics;
using System.Text;
using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using BatchAspire.Submitter.Submitting;

namespace BatchAspire.Workers.Tests;

/// <summary>Jobs under Sandbox faults; every test owns its Sandbox, because fault knobs are global to one.</summary>
public sealed class FaultTests : IAsyncLifetime
{
    private SandboxServer _sandbox = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _sandbox = SandboxServer.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _sandbox.DisposeAsync();

    [Fact]
    public async Task TransientFailuresAreRetriedUntilEveryRequestIsAnswered()
    {
        _sandbox.SetFaults(f => f.LineFail500Rate = 0.2);
        // 0.2^10 per request: the cap is not what this test is about.
        await using var pipeline = await PipelineHost.StartAsync(_sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "500",
            ["Results:MaxAttempts"] = "10",
        });
        var job = await pipeline.CreateJobAsync(Jsonl.File(1_000), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.ErrorFileId]);
        Assert.Equal(1_000, ended.GetInt64(JobFields.RequestCompleted));
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), []);
        var chunks = await ChunksAsync(pipeline, job.JobId);
        Assert.True(chunks.Count > 2, "failed requests went out again in new chunks");
        Assert.All(chunks.Skip(2), c => Assert.True(c.Attempt > 1 && c.IsList));
    }

    [Fact]
    public async Task TransientFailuresBecomeFinalAfterTheAttemptCap()
    {
        _sandbox.SetFaults(f => f.LineFail500Rate = 1.0);
        await using var pipeline = await PipelineHost.StartAsync(_sandbox, new Dictionary<string, string?> { ["Results:MaxAttempts"] = "3" });
        var job = await pipeline.CreateJobAsync(Jsonl.File(200), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.OutputFileId]);
        Assert.Equal(200, ended.GetInt64(JobFields.RequestFailed));
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(200, [], errors);
        Assert.All(errors, line => Assert.Equal(500, ResultFiles.StatusCode(line)));
        Assert.Equal([1, 2, 3], (await ChunksAsync(pipeline, job.JobId)).Select(c => c.Attempt));
        Assert.Equal(3, (await _sandbox.BatchesOfJobAsync(job.JobId, Ct)).Count);
    }

    [Fact]
    public async Task PermanentFailuresAreFinalAtOnceAndOnlyTheyFillTheErrorFile()
    {
        _sandbox.SetFaults(f => f.LineFail500Rate = 0.2);
        await using var pipeline = await PipelineHost.StartAsync(_sandbox, new Dictionary<string, string?> { ["Results:MaxAttempts"] = "10" });
        var text = new StringBuilder();
        for (var i = 0; i < 300; i++) text.Append(Jsonl.Request(i, maxCompletionTokens: i % 10 == 0 ? 0 : 20)).Append('\n');
        var job = await pipeline.CreateJobAsync(Encoding.UTF8.GetBytes(text.ToString()), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(300, output, errors);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => i * 10), errors.Select(l => ResultFiles.IndexOf(ResultFiles.CustomId(l))));
        Assert.All(errors, line => Assert.Equal(400, ResultFiles.StatusCode(line)));
        Assert.Equal(270, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Equal(30, ended.GetInt64(JobFields.RequestFailed));
    }

    [Fact]
    public async Task CreatesRefusedWith429AreDelayedAndThenSucceed()
    {
        _sandbox.SetFaults(f =>
        {
            f.ApiFailNext429 = 3;
            f.ApiFailMethod = "POST";
            f.ApiFailPathPrefix = "/v1/batches";
        });
        await using var pipeline = await PipelineHost.StartAsync(_sandbox);
        var job = await pipeline.CreateJobAsync(Jsonl.File(100), Ct);
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
        Assert.Single(await _sandbox.BatchesOfJobAsync(job.JobId, Ct));
        using var stats = JsonDocument.Parse(await _sandbox.GetStatsAsync(Ct));
        Assert.Equal(3, stats.RootElement.GetProperty("api_faults").GetProperty("429").GetInt64());
    }

    [Fact]
    public async Task TokenLimitRefusalsDelayChunksUntilCapacityFrees()
    {
        await using var pipeline = await PipelineHost.StartAsync(_sandbox, new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "200" });
        var probe = await pipeline.CreateJobAsync(Jsonl.File(200), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = probe.JobId }, Ct);
        var chunkTokens = (await pipeline.WaitForEndAsync(probe.JobId, TimeSpan.FromSeconds(60))).GetInt64(JobFields.InputTokens)!.Value;
        // Room for one chunk's prompt tokens at a time; each batch runs for a while so the others are refused.
        _sandbox.SetFaults(f =>
        {
            f.EnqueuedTokenLimit = chunkTokens * 3 / 2;
            f.LineLatencyMs = 2;
        });
        var job = await pipeline.CreateJobAsync(Jsonl.File(600), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(90));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(600, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Null(ended[JobFields.ErrorFileId]);
        var chunks = await ChunksAsync(pipeline, job.JobId);
        Assert.Contains(chunks, c => c.Status == JobStatus.Failed);
        Assert.All(chunks, c => Assert.Equal(1, c.Attempt));   // a capacity refusal is not an attempt
        ResultFiles.AssertEveryRequestOnceInInputOrder(600, await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), []);
    }

    private static async Task<List<ChunkRecord>> ChunksAsync(PipelineHost pipeline, string jobId)
    {
        var list = new List<ChunkRecord>();
        foreach (var id in await pipeline.Chunks.ListAsync(jobId)) list.Add((await pipeline.Chunks.GetAsync(id))!);
        return list;
    }
}
