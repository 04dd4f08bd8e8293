using System.Text;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Results;

/// <summary>
/// Assembly from result runs (moved whole when nothing of their file falls between their lines, copied otherwise),
/// the results hash (lines a provider returned out of order) and, for a stopped job, unanswered requests.
/// </summary>
public sealed class JobAssemblerTests(RedisFixture fixture) : IAsyncLifetime
{
    private const string Tenant = "t1";
    private IsolatedRedis _redis = null!;
    private readonly TempBlobStore _blobs = new();
    private RedisFileStore _files = null!;
    private ResultStore _results = null!;
    private JobAssembler _assembler = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IDatabase Db => _redis.Multiplexer.GetDatabase();

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        var deletions = new BlobDeletions(_redis.Multiplexer, _blobs.Store, TimeProvider.System);
        _files = new RedisFileStore(_redis.Multiplexer, _blobs.Store, TimeProvider.System);
        _results = new ResultStore(_redis.Multiplexer, _blobs.Store, deletions);
        // Small batches, so the hash path crosses several HMGETs.
        _assembler = new JobAssembler(_redis.Multiplexer, _files, _blobs.Store, deletions) { BatchSize = 7, Window = 2 };
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        _blobs.Dispose();
    }

    [Fact]
    public async Task RunsInLineOrderAreMovedWholeAndBothFilesComeOutInInputOrder()
    {
        var job = await NewJobAsync(100, chunks: 2);
        // Chunk 0: lines 0..49, every tenth a failure; chunk 1: lines 50..99, all successes.
        await RecordRunsAsync(job, 0, Enumerable.Range(0, 50).Select(i => (i, i % 10 == 3)));
        await RecordRunsAsync(job, 1, Enumerable.Range(50, 50).Select(i => (i, false)));

        var (output, errors, moved) = await AssembleAndCommitAsync(job, null);

        Assert.Equal(Enumerable.Range(0, 100).Where(i => !(i < 50 && i % 10 == 3)), output.Select(Number));
        Assert.Equal([3, 13, 23, 33, 43], errors.Select(Number));
        Assert.Equal(100, moved);
    }

    [Fact]
    public async Task LinesOutOfOrderInTheHashAndARetryRunInterleaveWithTheRunsTheyFallInside()
    {
        var job = await NewJobAsync(60, chunks: 3);
        // Chunk 0 (0..29): 0..19 in its run except 4 and 9; 4 came back out of order (hash); 9 was retried in chunk 2.
        await RecordRunsAsync(job, 0, Enumerable.Range(0, 20).Where(i => i is not (4 or 9)).Select(i => (i, i == 17)));
        await _results.StoreFinalsAsync(job, [.. Enumerable.Range(20, 10).Reverse().Append(4).Select(i => new FinalResult(i, i == 25, Line(i)))]);
        // Chunk 1 (30..59): a run nothing falls inside of.
        await RecordRunsAsync(job, 1, Enumerable.Range(30, 30).Select(i => (i, false)));
        // Chunk 2: the retry of line 9.
        await RecordRunsAsync(job, 2, [(9, false)]);

        var (output, errors, moved) = await AssembleAndCommitAsync(job, null);

        Assert.Equal(Enumerable.Range(0, 60).Where(i => i is not (17 or 25)), output.Select(Number));
        Assert.Equal([17, 25], errors.Select(Number));
        // Chunk 1's run, the one-line error run of chunk 0 and the retry run (nothing else of their files lies inside them).
        Assert.Equal(32, moved);
    }

    [Fact]
    public async Task StoppedJobAnswersEveryRequestWithoutAResultWithTheStopCode()
    {
        var job = await NewJobAsync(40, chunks: 2);
        await RecordRunsAsync(job, 0, Enumerable.Range(0, 12).Select(i => (i, false)));
        await RecordRunsAsync(job, 1, Enumerable.Range(20, 5).Select(i => (i, i == 22)));

        var (output, errors, _) = await AssembleAndCommitAsync(job, ResultLine.BatchCancelled);

        Assert.Equal(Enumerable.Range(0, 12).Concat([20, 21, 23, 24]), output.Select(Number));
        Assert.Equal(Enumerable.Range(12, 8).Append(22).Concat(Enumerable.Range(25, 15)), errors.Select(Number));
        Assert.All(errors.Where(l => Number(l) != 22), l => Assert.Contains("\"batch_cancelled\"", l));
    }

    [Fact]
    public async Task RunTakesOnlyLinesAfterItsLastOne()
    {
        var job = JobIds.New();
        await using var run = _results.CreateRunWriter(job, "0.o.t", RunKind.Output);

        Assert.True(await run.TryAppendAsync(5, Line(5)));
        Assert.False(await run.TryAppendAsync(5, Line(5)));
        Assert.False(await run.TryAppendAsync(2, Line(2)));
        Assert.True(await run.TryAppendAsync(9, Line(9)));
        await run.CompleteAsync();

        Assert.Equal(new ResultRun(job, "0.o.t", RunKind.Output, 2, Line(5).Length + Line(9).Length + 2, 5, 9, 1), run.Run);
        Assert.NotNull(await Db.SortedSetScoreAsync(RedisKeys.BlobsToDelete, run.Run!.Prefix));   // unrecorded: the sweep deletes it unless recorded
    }

    [Fact]
    public async Task CompletedJobWithALineMissingFailsAssembly()
    {
        var job = await NewJobAsync(10, chunks: 1);
        await RecordRunsAsync(job, 0, Enumerable.Range(0, 10).Where(i => i != 6).Select(i => (i, false)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AssembleAndCommitAsync(job, null));
        Assert.Contains("Line 6", error.Message);
    }

    [Fact]
    public async Task SecondCommitOfAJobLosesAndLeavesTheFirstFilesIntact()
    {
        var job = await NewJobAsync(30, chunks: 1);
        await RecordRunsAsync(job, 0, Enumerable.Range(0, 30).Select(i => (i, false)));
        var request = new AssemblyRequest(job, Tenant, 30, await InputFileAsync(job), null, null);
        await using var first = await _assembler.PrepareAsync(request, Ct);
        await using var second = await _assembler.PrepareAsync(request, Ct);

        var won = await _results.CommitAsync(job, new JobCompletion(JobStatus.Completed, default, null), first);
        var lost = await _results.CommitAsync(job, new JobCompletion(JobStatus.Completed, default, null), second);

        Assert.True(won.Won);
        Assert.False(lost.Won);
        Assert.Equal(JobStatus.Completed, lost.Status);
        Assert.Equal(30, await ReadAsync(won.OutputFileId).ContinueWith(t => t.Result.Count, Ct));
        await second.DisposeAsync();   // the loser's staged parts go with it
        await AssertEveryBlobOfTheJobBelongsToItsFilesAsync(job);
    }

    private async Task<(List<string> Output, List<string> Errors, long Moved)> AssembleAndCommitAsync(string job, string? unansweredCode)
    {
        var total = (long)await Db.HashGetAsync(RedisKeys.Job(job), JobFields.RequestTotal);
        await using var assembled = await _assembler.PrepareAsync(new AssemblyRequest(job, Tenant, total, await InputFileAsync(job), null, unansweredCode), Ct);
        var status = unansweredCode is null ? JobStatus.Completed : JobStatus.Cancelled;
        var commit = await _results.CommitAsync(job, new JobCompletion(status, new TokenUsage(1, 0, 1, 0), null), assembled);
        Assert.True(commit.Won);
        var ended = await Db.HashGetAllAsync(RedisKeys.Job(job));
        Assert.Equal(status, ended.Single(e => e.Name == JobFields.Status).Value);
        var output = await ReadAsync(commit.OutputFileId);
        var errors = await ReadAsync(commit.ErrorFileId);
        Assert.Equal(output.Count, (long)ended.Single(e => e.Name == JobFields.RequestCompleted).Value);
        Assert.Equal(errors.Count, (long)ended.Single(e => e.Name == JobFields.RequestFailed).Value);
        await AssertEveryBlobOfTheJobBelongsToItsFilesAsync(job);
        return (output, errors, assembled.Output.MovedLines + assembled.Errors.MovedLines);
    }

    private async Task<List<string>> ReadAsync(string? fileId)
    {
        if (fileId is null) return [];
        var file = (await _files.GetAsync(fileId, Ct))!;
        var lines = new List<string>();
        await foreach (var line in _files.ReadLinesAsync(fileId, 0, file.Lines, Ct)) lines.Add(Encoding.UTF8.GetString(line.Span));
        var content = new StringBuilder();
        await foreach (var segment in _files.ReadContentAsync(fileId, Ct)) content.Append(Encoding.UTF8.GetString(segment.Span));
        Assert.Equal(string.Concat(lines.Select(l => l + "\n")), content.ToString());
        Assert.Equal(content.Length, file.Bytes);
        return lines;
    }

    private async Task<string> NewJobAsync(long lines, int chunks)
    {
        var job = JobIds.New();
        await Db.HashSetAsync(RedisKeys.Job(job), [new(JobFields.Status, JobStatus.InProgress), new(JobFields.RequestTotal, lines), new(JobFields.Tenant, Tenant)]);
        for (var n = 0; n < chunks; n++)
        {
            var chunkId = ChunkIds.Create(job, n);
            await Db.ListRightPushAsync(RedisKeys.JobChunks(job), chunkId);
            await Db.HashSetAsync(RedisKeys.Chunk(chunkId), [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkFields.Attempt, 1)]);
        }
        await using var input = _files.CreateWriter(Tenant, "input.jsonl", FilePurposes.Batch, null);
        for (var i = 0; i < lines; i++) await input.WriteLineAsync(Encoding.UTF8.GetBytes($"{{\"custom_id\":\"req-{i}\",\"method\":\"POST\"}}"), Ct);
        var file = await input.CommitAsync(Ct);
        await Db.HashSetAsync(RedisKeys.Job(job), JobFields.InputFileId, file.Id);
        return job;
    }

    /// <summary>After a commit, the job's blobs are exactly its files' parts: runs no file took are gone, none is listed for deletion.</summary>
    private async Task AssertEveryBlobOfTheJobBelongsToItsFilesAsync(string job)
    {
        var parts = new List<string>();
        foreach (var field in new[] { JobFields.OutputFileId, JobFields.ErrorFileId })
        {
            if (await Db.HashGetAsync(RedisKeys.Job(job), field) is { IsNull: false } fileId)
                parts.AddRange(LinePart.ParseAll(await Db.HashGetAsync(RedisKeys.File(fileId!), FileFields.Parts)).Select(p => p.Prefix));
        }
        var prefixes = (await _blobs.NamesAsync($"jobs/{job}/")).Select(n => n[..n.LastIndexOf('.')]).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(parts.Order(StringComparer.Ordinal), prefixes);
        Assert.DoesNotContain((await Db.SortedSetRangeByRankAsync(RedisKeys.BlobsToDelete)).Select(v => (string)v!), p => p.StartsWith($"jobs/{job}/", StringComparison.Ordinal));
    }

    private async Task<string> InputFileAsync(string job) => (string)(await Db.HashGetAsync(RedisKeys.Job(job), JobFields.InputFileId))!;

    /// <summary>Writes chunk <paramref name="number"/>'s runs as a results pass does (small segments) and records them.</summary>
    private async Task RecordRunsAsync(string job, int number, IEnumerable<(int Index, bool Failure)> lines)
    {
        await using var output = _results.CreateRunWriter(job, $"{number}.o.t", RunKind.Output);
        await using var errors = _results.CreateRunWriter(job, $"{number}.e.t", RunKind.Error);
        foreach (var (index, failure) in lines)
            Assert.True(await (failure ? errors : output).TryAppendAsync(index, Line(index)));
        await output.CompleteAsync();
        await errors.CompleteAsync();
        var complete = await _results.CompleteChunkAsync(ChunkIds.Create(job, number), default, SuccessorKind.None, [], 1, TimeSpan.Zero, output.Run, errors.Run);
        Assert.True(complete.CompletedNow);
        foreach (var run in new[] { output.Run, errors.Run }.OfType<ResultRun>())
            Assert.Null(await Db.SortedSetScoreAsync(RedisKeys.BlobsToDelete, run.Prefix));   // recorded: kept until the job commits
    }

    // Long enough that a run spreads over several 1 MiB segments only in big tests; here one segment per run.
    private static byte[] Line(int i) => Encoding.UTF8.GetBytes($"{{\"custom_id\":\"req-{i}\",\"response\":{{\"status_code\":200}},\"n\":{i}}}");

    private static int Number(string line) => int.Parse(line[(line.IndexOf("req-", StringComparison.Ordinal) + 4)..line.IndexOf('"', line.IndexOf("req-", StringComparison.Ordinal))]);
}
