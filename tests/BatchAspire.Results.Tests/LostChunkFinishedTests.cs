using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using BatchAspire.Providers;
using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.Results.Tests;

/// <summary>
/// A <c>ChunkFinished</c> the broker loses is announced again from state (<c>ChunkFinishedRepublisher</c>): a finished
/// chunk whose results show no life for <c>Results:RepublishFinishedAfter</c>. The bound here is a second.
/// </summary>
public sealed class LostChunkFinishedTests(RedisFixture redis) : SandboxOwningTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Submitter:MaxLinesPerChunk"] = "400",
        ["Results:RepublishFinishedAfter"] = "00:00:01",
    };

    [Fact]
    public async Task AJobWhoseEveryChunkFinishedWasLostCompletesThroughTheRepublisherWithEveryAnswerOnce()
    {
        // No poller in the host: the test polls, applies and completes each chunk as the poller does, and its publish of
        // ChunkFinished is what the broker lost.
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Settings, withPoller: false);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);

        await PollUntilEveryChunkFinishedWithoutAnnouncingAsync(pipeline, job.JobId, expectedChunks: 3);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, []);
        var announced = pipeline.Harness.Published.Select<ChunkFinished>(Ct).Select(m => m.Context.Message.ChunkId).ToList();
        Assert.Equal((await pipeline.Chunks.ListAsync(job.JobId)).Order(), announced.Distinct().Order());
        Assert.Equal(0, await pipeline.Db.SortedSetLengthAsync(RedisKeys.FinishedChunks));

        // The original message turns up after all: the job and its files stay as they are.
        var chunk = (await pipeline.ChunkRecordsAsync(job.JobId))[0];
        var consumedBefore = pipeline.Harness.Consumed.Select<ChunkFinished>(Ct).Count();
        await pipeline.Bus.Publish(new ChunkFinished { JobId = job.JobId, ChunkId = chunk.Id, ProviderBatchId = chunk.ProviderBatchId!, ProviderStatus = "completed" }, Ct);
        await PipelineHost.WaitUntilAsync(() => Task.FromResult(pipeline.Harness.Consumed.Select<ChunkFinished>(Ct).Count() > consumedBefore),
            TimeSpan.FromSeconds(10), "the late ChunkFinished to be consumed");
        var after = (await pipeline.Jobs.GetAsync(job.JobId, Ct))!;
        Assert.Equal(ended[JobFields.OutputFileId], after[JobFields.OutputFileId]);
        Assert.Equal(1_000, after.GetInt64(JobFields.RequestCompleted));
        Assert.Equal(output, await pipeline.ReadFileAsync(after[JobFields.OutputFileId]));
    }

    [Fact]
    public async Task AResultsPassLongerThanTheBoundKeepsShowingLifeAndIsNotAnnouncedAgain()
    {
        // Every result download answers 2.5 s late: well past the 1 s bound, while the pass is under way.
        Sandbox.SetFaults(f =>
        {
            f.ResponseDelayMs = 2_500;
            f.ResponseDelayPathPrefix = "/v1/files/";
            f.ResponseDelayMethod = "GET";
        });
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Settings);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(30));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var chunkId = Assert.Single(await pipeline.Chunks.ListAsync(job.JobId));
        Assert.Single(pipeline.Harness.Published.Select<ChunkFinished>(Ct), m => m.Context.Message.ChunkId == chunkId);
        Assert.Equal(0, await pipeline.Db.SortedSetLengthAsync(RedisKeys.FinishedChunks));
    }

    [Fact]
    public async Task AFinishedChunkOfAJobThatEndedWithoutItsResultsIsForgottenNotAnnounced()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Settings, withPoller: false);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(10), Ct);
        var chunkId = ChunkIds.Create(job.JobId, 0);
        await pipeline.Db.HashSetAsync(RedisKeys.Chunk(chunkId), [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkPollFields.ProviderBatchId, "batch_gone")]);
        await pipeline.Db.HashSetAsync(RedisKeys.Job(job.JobId), JobFields.Status, JobStatus.Cancelled);
        await pipeline.Db.SortedSetAddAsync(RedisKeys.FinishedChunks, chunkId, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds());

        await PipelineHost.WaitUntilAsync(async () => await pipeline.Db.SortedSetLengthAsync(RedisKeys.FinishedChunks) == 0,
            TimeSpan.FromSeconds(10), "the chunk to be forgotten");

        Assert.Empty(pipeline.Harness.Published.Select<ChunkFinished>(Ct));
    }

    [Fact]
    public async Task AChunkFinishedArrivingAfterItsJobEndedTakesTheChunkOffTheFinishedListAtOnce()
    {
        // The republisher's bound is an hour here: only the results pass that reads the message can take the chunk off.
        var settings = new Dictionary<string, string?>(Settings) { ["Results:RepublishFinishedAfter"] = "01:00:00" };
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, settings, withPoller: false);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(10), Ct);
        var chunkId = ChunkIds.Create(job.JobId, 0);
        await pipeline.Db.HashSetAsync(RedisKeys.Chunk(chunkId), [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkPollFields.ProviderBatchId, "batch_cancelled")]);
        await pipeline.Db.HashSetAsync(RedisKeys.Job(job.JobId), JobFields.Status, JobStatus.Cancelled);
        await pipeline.Db.SortedSetAddAsync(RedisKeys.FinishedChunks, chunkId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        await pipeline.Bus.Publish(new ChunkFinished { JobId = job.JobId, ChunkId = chunkId, ProviderBatchId = "batch_cancelled", ProviderStatus = "cancelled" }, Ct);

        await PipelineHost.WaitUntilAsync(async () => await pipeline.Db.SortedSetScoreAsync(RedisKeys.FinishedChunks, chunkId) is null,
            TimeSpan.FromSeconds(10), "the ended job's chunk to leave the finished list");
    }

    /// <summary>The poller's work for every chunk of the job, less its publish: claim, GET, apply, and complete when terminal.</summary>
    private static async Task PollUntilEveryChunkFinishedWithoutAnnouncingAsync(PipelineHost pipeline, string jobId, int expectedChunks)
    {
        var schedule = pipeline.Services.GetRequiredService<PollSchedule>();
        var provider = pipeline.Services.GetRequiredService<ProviderBatches>();
        var finished = new HashSet<string>(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (finished.Count < expectedChunks)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {finished.Count} of {expectedChunks} chunks finished at the provider in time");
            foreach (var claim in (await schedule.ClaimAsync(16, TimeSpan.FromSeconds(5))).Claims.Where(c => c.JobId == jobId))
            {
                var batch = await provider.GetBatchAsync(claim.ProviderBatchId!, Ct);
                var interval = TimeSpan.FromMilliseconds(100);
                Assert.True(await schedule.ApplyAsync(claim, batch, interval, batch.IsTerminal ? TimeSpan.FromSeconds(5) : interval));
                if (!batch.IsTerminal) continue;
                Assert.True(await schedule.CompleteAsync(claim));
                finished.Add(claim.ChunkId);
            }
            await Task.Delay(100, Ct);
        }
    }
}
