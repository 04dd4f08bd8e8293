using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;

namespace BatchAspire.Results.Tests;

/// <summary>Cancel and expiry end a job with its partial output; every test owns its Sandbox (fault knobs are global).</summary>
public sealed class StopTests(RedisFixture redis) : SandboxOwningTests
{
    [Fact]
    public async Task CancelledJobEndsCancelledWithItsPartialOutput()
    {
        Sandbox.SetFaults(f => f.LineLatencyMs = 20);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "50" });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await PipelineHost.WaitUntilAsync(() => pipeline.AnyResultsStoredAsync(job.JobId),
            TimeSpan.FromSeconds(30), "the first results");

        await CancelAsync(pipeline, job);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Cancelled, ended.Status);
        Assert.NotNull(ended[JobFields.CancelledAt]);
        Assert.NotNull(ended[JobFields.CancellingAt]);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, errors);
        Assert.NotEmpty(output);
        Assert.NotEmpty(errors);
        Assert.All(errors, line => Assert.Equal("batch_cancelled", ResultFiles.ErrorCode(line)));
        Assert.Equal(output.Count, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Equal(errors.Count, ended.GetInt64(JobFields.RequestFailed));
    }

    [Fact]
    public async Task JobCancelledBeforePlanningSubmitsNothing()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(50), Ct);

        await CancelAsync(pipeline, job);
        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Cancelled, ended.Status);
        Assert.Null(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(50, [], errors);
        Assert.All(errors, line => Assert.Equal("batch_cancelled", ResultFiles.ErrorCode(line)));
        Assert.Empty(await Sandbox.BatchesOfJobAsync(job.JobId, Ct));
    }

    [Fact]
    public async Task JobPastItsCompletionWindowEndsExpiredWithItsPartialOutput()
    {
        Sandbox.SetFaults(f => f.LineLatencyMs = 20);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "50",
            ["Results:CompletionWindowOverride"] = "01:00:00",
        });
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await PipelineHost.WaitUntilAsync(() => pipeline.AnyResultsStoredAsync(job.JobId),
            TimeSpan.FromSeconds(30), "the first results");

        // Two hours pass for this job: it was created before its one-hour window began.
        var created = DateTimeOffset.UtcNow.AddHours(-2);
        await pipeline.Db.HashSetAsync(RedisKeys.Job(job.JobId), JobFields.CreatedAt, created.ToUnixTimeSeconds());
        await pipeline.Db.SortedSetAddAsync(RedisKeys.OpenJobs, job.JobId, created.ToUnixTimeMilliseconds());
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Expired, ended.Status);
        Assert.NotNull(ended[JobFields.ExpiredAt]);
        Assert.NotNull(ended[JobFields.ExpiringAt]);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, errors);
        Assert.NotEmpty(output);
        Assert.NotEmpty(errors);
        Assert.All(errors, line => Assert.Equal("batch_expired", ResultFiles.ErrorCode(line)));
        Assert.Equal(0, await pipeline.Db.SortedSetLengthAsync(RedisKeys.OpenJobs));
    }

    private static async Task CancelAsync(PipelineHost pipeline, TestJob job)
    {
        // What the intake does for POST /batches/{id}/cancel.
        var outcome = await pipeline.Jobs.RequestCancelAsync(job.Tenant, job.JobId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Ct);
        Assert.True(outcome.Cancelling);
        await pipeline.Bus.Publish(new JobCancelRequested { JobId = job.JobId }, Ct);
    }
}
