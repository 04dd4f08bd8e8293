using System.Text;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;

namespace BatchAspire.Results.Tests;

/// <summary>
/// Requests that fail at the provider: the results service sends transient failures again in new chunks up to the
/// attempt cap and writes permanent ones to the error file at once. Every test owns its Sandbox, because fault knobs are
/// global to one (the create refusals the submitter handles are in Submitter.Tests' RefusalTests).
/// </summary>
public sealed class FaultTests(RedisFixture redis) : SandboxOwningTests
{
    [Fact]
    public async Task TransientFailuresAreRetriedUntilEveryRequestIsAnswered()
    {
        Sandbox.SetFaults(f => f.LineFail500Rate = 0.2);
        // 0.2^10 per request: the cap is not what this test is about.
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "500",
            ["Results:MaxAttempts"] = "10",
        });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.ErrorFileId]);
        Assert.Equal(1_000, ended.GetInt64(JobFields.RequestCompleted));
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), []);
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.True(chunks.Count > 2, "failed requests went out again in new chunks");
        Assert.All(chunks.Skip(2), c => Assert.True(c.Attempt > 1 && c.IsList));
    }

    [Fact]
    public async Task TransientFailuresBecomeFinalAfterTheAttemptCap()
    {
        Sandbox.SetFaults(f => f.LineFail500Rate = 1.0);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?> { ["Results:MaxAttempts"] = "3" });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(200), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.OutputFileId]);
        Assert.Equal(200, ended.GetInt64(JobFields.RequestFailed));
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(200, [], errors);
        Assert.All(errors, line => Assert.Equal(500, ResultFiles.StatusCode(line)));
        Assert.Equal([1, 2, 3], (await pipeline.ChunkRecordsAsync(job.JobId)).Select(c => c.Attempt));
        Assert.Equal(3, (await Sandbox.BatchesOfJobAsync(job.JobId, Ct)).Count);
    }

    [Fact]
    public async Task PermanentFailuresAreFinalAtOnceAndOnlyTheyFillTheErrorFile()
    {
        Sandbox.SetFaults(f => f.LineFail500Rate = 0.2);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?> { ["Results:MaxAttempts"] = "10" });
        var text = new StringBuilder();
        for (var i = 0; i < 300; i++) text.Append(PipelineJsonl.Request(i, maxCompletionTokens: i % 10 == 0 ? 0 : 20)).Append('\n');
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
    public async Task ABatchRefusedForSomeLinesFailsOnlyThoseLinesWithTheProvidersCodeAndRetriesTheRestAtOnce()
    {
        // req-42, req-142 and req-242: one refused line in each of the three chunks.
        Sandbox.SetFaults(f => f.RefuseCustomIdsContaining = "42");
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "100",
            ["Results:MaxAttempts"] = "1",
        });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(300, output, errors);
        Assert.Equal([42, 142, 242], errors.Select(l => ResultFiles.IndexOf(ResultFiles.CustomId(l))));
        Assert.All(errors, line => Assert.Equal("invalid_request", ResultFiles.ErrorCode(line)));
        Assert.Equal(297, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Equal(3, ended.GetInt64(JobFields.RequestFailed));
        // The lines not at fault went out again although one attempt was allowed: the refusal was not their try.
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Equal(6, chunks.Count);
        Assert.Equal(3, chunks.Count(c => c.Attempt == 2 && c.IsList && c.Count == 99));
        Assert.Equal(6, (await Sandbox.BatchesOfJobAsync(job.JobId, Ct)).Count);
    }

    [Fact]
    public async Task AnEmbeddingJobWithMoreInputsThanOneBatchHoldsIsCutIntoBatchesTheProviderAccepts()
    {
        // 2,001 requests of 25 inputs each: 50,025 inputs, past the 50,000 one provider batch may hold.
        var text = new StringBuilder();
        for (var i = 0; i < 2_001; i++)
        {
            var inputs = string.Join(',', Enumerable.Range(0, 25).Select(k => $"\"review {i} part {k}\""));
            text.Append($$$"""{"custom_id":"req-{{{i}}}","method":"POST","url":"/v1/embeddings","body":{"model":"text-embedding-3-small","input":[{{{inputs}}}],"dimensions":4}}""").Append('\n');
        }
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?> { ["Results:MaxAttempts"] = "1" });
        var job = await pipeline.CreateJobAsync(Encoding.UTF8.GetBytes(text.ToString()), Ct, endpoint: "/v1/embeddings", model: "text-embedding-3-small");

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(2_001, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Null(ended[JobFields.ErrorFileId]);
        Assert.Equal([2_000L, 1L], (await pipeline.ChunkRecordsAsync(job.JobId)).Select(c => c.Count));
        Assert.All(await Sandbox.BatchesOfJobAsync(job.JobId, Ct), b => Assert.Equal("completed", b.GetProperty("status").GetString()));
    }
}
