using System.Text;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;

namespace BatchAspire.Results.Tests;

/// <summary>
/// A job's partial output (docs/webhooks.md, "Partial results") read while the job runs, through the whole pipeline
/// against the in-process Sandbox. Transient failures make the job's chunks finish at different times: first tries,
/// then their retries, then the retries' retries.
/// </summary>
public sealed class PartialOutputTests(RedisFixture redis) : IAsyncLifetime
{
    private SandboxServer _sandbox = null!;
    private PipelineHost _pipeline = null!;
    private PartialOutput _partial = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sandbox = SandboxServer.Start();
        // Each line takes a little while, so the chunks end one after another and a reader sees the job run.
        _sandbox.SetFaults(f => { f.LineFail500Rate = 0.3; f.LineLatencyMs = 3; });
        _pipeline = await PipelineHost.StartAsync(redis, _sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "100",
            ["Results:MaxAttempts"] = "3",
        });
        _partial = new PartialOutput(_pipeline.Redis.Multiplexer, _pipeline.Blobs.Store, _pipeline.Files);
    }

    public async ValueTask DisposeAsync()
    {
        await _pipeline.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task ARunningJobsFinalLinesComeInResumesEachOnceAndTogetherAreItsOutputAndErrorFiles()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);
        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);

        var (read, readsWhileRunning) = await ReadUntilCompleteAsync(job.JobId);

        await AssertEachLineOnceAsTheFilesHoldItAsync(job.JobId, read, readsWhileRunning);
    }

    [Fact]
    public async Task LinesTheProviderAnsweredOutOfOrderComeOnceWithTheBytesTheFilesHold()
    {
        // Out of order, final lines go to the results hash instead of the chunk's runs: a listed chunk gives them from there.
        _sandbox.SetFaults(f => { f.LineFail500Rate = 0.3; f.LineLatencyMs = 3; f.OutputOutOfOrder = true; });
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);
        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);

        var (read, readsWhileRunning) = await ReadUntilCompleteAsync(job.JobId);

        Assert.True(await _pipeline.Db.HashLengthAsync(RedisKeys.JobResults(job.JobId)) > 0, "some final lines went to the results hash");
        await AssertEachLineOnceAsTheFilesHoldItAsync(job.JobId, read, readsWhileRunning);
    }

    /// <summary>Reads the job's partial output from the start until a read says it is complete (bounded).</summary>
    private async Task<(List<string> Lines, int ReadsWhileRunning)> ReadUntilCompleteAsync(string jobId)
    {
        var read = new List<string>();
        var readsWhileRunning = 0;
        long cursor = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job's partial output did not complete within 60 s");
            var page = await _partial.PlanAsync(jobId, cursor, Ct);
            Assert.NotNull(page);
            var lines = await ReadAsync(page);
            if (lines.Count > 0 && !page.Complete) readsWhileRunning++;
            read.AddRange(lines);
            cursor = page.Next;
            if (page.Complete) return (read, readsWhileRunning);
            await Task.Delay(20, Ct);
        }
    }

    private async Task AssertEachLineOnceAsTheFilesHoldItAsync(string jobId, List<string> read, int readsWhileRunning)
    {
        var ended = await _pipeline.WaitForEndAsync(jobId, TimeSpan.FromSeconds(10));
        var output = await _pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await _pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        // The test is about retries: some requests went out again, and some ran out of attempts.
        Assert.Contains(await _pipeline.ChunkRecordsAsync(jobId), c => c.Attempt == 3);
        Assert.NotEmpty(errors);
        // Two reads with lines while the job ran and the last one: the cursor was resumed twice. (Under load the first
        // attempts' chunks, running side by side at the provider, can end together, so more is not certain.)
        Assert.True(readsWhileRunning >= 2, $"lines came in {readsWhileRunning} reads while the job ran, not 2 or more");
        // Each request once, and each line as the job's files hold it: no line a retry replaced, none twice.
        Assert.Equal(300, read.Select(ResultFiles.CustomId).Distinct().Count());
        Assert.Equal(output.Concat(errors).Order(StringComparer.Ordinal), read.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnEndedJobAnswersAllItsLinesFromTheStartNothingAfterItsLastCursorAndRefusesACursorBeyond()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(250), Ct);
        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await _pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));
        var output = await _pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await _pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);

        var all = await _partial.PlanAsync(job.JobId, 0, Ct);
        Assert.NotNull(all);
        Assert.True(all.Complete);
        Assert.Equal(output.Concat(errors), await ReadAsync(all));

        // From the middle of the list: the lines the first two listed chunks did not end (theirs less their successors').
        var middle = await _partial.PlanAsync(job.JobId, 2, Ct);
        Assert.NotNull(middle);
        long givenBefore = 0;
        foreach (var chunkId in (await _pipeline.Db.ListRangeAsync(RedisKeys.JobPartialOutput(job.JobId), 0, 1)).Select(v => (string)v!))
        {
            var chunk = (await _pipeline.Chunks.GetAsync(chunkId))!;
            givenBefore += chunk.Count - (chunk[ChunkFields.Successor] is { } successor ? (await _pipeline.Chunks.GetAsync(successor))!.Count : 0);
        }
        var rest = await ReadAsync(middle);
        Assert.True(givenBefore > 0, "the first two listed chunks ended requests");
        Assert.Equal(250 - givenBefore, rest.Count);
        Assert.Subset(output.Concat(errors).ToHashSet(), rest.ToHashSet());
        Assert.Equal(rest.Count, rest.Distinct().Count());
        Assert.Equal(all.Next, middle.Next);

        var last = await _partial.PlanAsync(job.JobId, all.Next, Ct);
        Assert.NotNull(last);
        Assert.True(last.Complete);
        Assert.Empty(await ReadAsync(last));
        Assert.Null(await _partial.PlanAsync(job.JobId, all.Next + 1, Ct));
    }

    private async Task<List<string>> ReadAsync(PartialOutputPage page)
    {
        var lines = new List<string>();
        await foreach (var line in _partial.ReadAsync(page, Ct)) lines.Add(Encoding.UTF8.GetString(line.Span));
        return lines;
    }
}
