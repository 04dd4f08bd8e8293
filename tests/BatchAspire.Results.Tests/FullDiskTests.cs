using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;

namespace BatchAspire.Results.Tests;

/// <summary>
/// The blob store on a small real filesystem that fills up while the provider's results come in and the job is
/// assembled: the results service waits for room (an outage, retried; no message given up), and the job completes with
/// every answer once when room is made.
/// </summary>
public sealed class FullDiskTests(RedisFixture redis)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AJobWhoseResultsMeetAFullDiskWaitsAndCompletesWithEveryAnswerOnceWhenThereIsRoomAgain()
    {
        using var disk = SmallDisk.Mount(64 * 1024 * 1024);
        await using var sandbox = SandboxServer.Start();
        await using var pipeline = await PipelineHost.StartAsync(redis, sandbox, new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "500" },
            blobRoot: disk.Path);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(2_000), Ct);
        var filler = disk.Fill();

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        // Every provider batch ends; with no room for their results the job cannot end.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await sandbox.BatchesOfJobAsync(job.JobId, Ct)) is var batches
               && (batches.Count < 4 || batches.Any(b => b.GetProperty("status").GetString() != "completed")))
        {
            Assert.True(DateTime.UtcNow < deadline, "the provider batches never completed");
            await Task.Delay(200, Ct);
        }
        // Full for longer than a fault's retries last (five, backing off to 10 s: about 21 s): a full disk taken for a
        // fault would have dead-lettered the ChunkFinished by then, and nothing would send it again.
        await Task.Delay(TimeSpan.FromSeconds(25), Ct);
        Assert.False(JobStatus.IsTerminal((await pipeline.Jobs.GetAsync(job.JobId, Ct))!.Status), "the job ended without room for its results");

        File.Delete(filler);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(90));

        Assert.Equal(JobStatus.Completed, ended.Status);
        ResultFiles.AssertEveryRequestOnceInInputOrder(2_000, await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), []);
    }
}
