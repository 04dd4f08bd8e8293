using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Chunks;

/// <summary>
/// The job's chunk counters (<c>ba:{jobId}:chunkstats</c>) that finalizing reads instead of every chunk: they must say
/// what a walk over the chunks would.
/// </summary>
public sealed class ChunkCountersTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private readonly TempBlobStore _blobs = new();
    private ChunkStore _chunks = null!;
    private ResultStore _results = null!;

    private IDatabase Db => _redis.Db;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);
        _chunks = new ChunkStore(_redis.Multiplexer);
        _results = new ResultStore(_redis.Multiplexer, _blobs.Store, new BlobDeletions(_redis.Multiplexer, _blobs.Store, TimeProvider.System));
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        _blobs.Dispose();
    }

    [Fact]
    public async Task AJobPlannedBeforeTheCountersHasThemCountedFromItsChunkListOnce()
    {
        // As an earlier version left it: chunk list and hashes, no counters. Chunk 0 has provider usage, chunk 1 only
        // its lines' usage, chunk 2 is not done.
        var job = JobIds.New();
        await Db.HashSetAsync(RedisKeys.Job(job), [new(JobFields.Status, JobStatus.InProgress)]);
        for (var n = 0; n < 3; n++)
        {
            await Db.ListRightPushAsync(RedisKeys.JobChunks(job), ChunkIds.Create(job, n));
            await Db.HashSetAsync(RedisKeys.Chunk(ChunkIds.Create(job, n)), [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkFields.Attempt, 1)]);
        }
        await Db.HashSetAsync(RedisKeys.Chunk(ChunkIds.Create(job, 0)),
        [
            new(ChunkFields.ResultsDone, 1), new(ChunkPollFields.InputTokens, 100), new(ChunkPollFields.OutputTokens, 10),
            new(ChunkFields.LineInputTokens, 1), new(ChunkFields.LineOutputTokens, 1),
        ]);
        await Db.HashSetAsync(RedisKeys.Chunk(ChunkIds.Create(job, 1)),
            [new(ChunkFields.ResultsDone, 1), new(ChunkFields.LineInputTokens, 7), new(ChunkFields.LineCachedTokens, 3)]);

        Assert.False(await _chunks.AllResultsDoneAsync(job));
        Assert.Equal(3, (long)await Db.HashGetAsync(RedisKeys.JobChunkStats(job), ChunkStatsFields.Chunks));
        Assert.Equal(2, (long)await Db.HashGetAsync(RedisKeys.JobChunkStats(job), ChunkStatsFields.Done));

        await _results.CompleteChunkAsync(ChunkIds.Create(job, 2), new TokenUsage(5, 0, 5, 0), SuccessorKind.None, [], 1, TimeSpan.Zero);

        Assert.True(await _chunks.AllResultsDoneAsync(job));
        Assert.Equal(new TokenUsage(112, 3, 15, 0), await _results.SumUsageAsync(job));
    }

    [Fact]
    public async Task ARetryChunkKeepsItsJobOpenUntilItsOwnResultsAreStored()
    {
        var job = await PlannedJobAsync(2);

        var complete = await _results.CompleteChunkAsync(ChunkIds.Create(job, 0), default, SuccessorKind.Retry, [3, 4], 2, TimeSpan.Zero);
        await _results.CompleteChunkAsync(ChunkIds.Create(job, 1), default, SuccessorKind.None, [], 1, TimeSpan.Zero);

        Assert.Equal(ChunkIds.Create(job, 2), complete.SuccessorChunkId);
        var successor = (await _chunks.GetAsync(complete.SuccessorChunkId!))!;
        Assert.Equal((ChunkKinds.List, 2, ChunkIds.Create(job, 0)), (successor[ChunkFields.Kind], successor.Attempt, successor[ChunkFields.Parent]));
        Assert.Equal(new long[] { 3, 4 }, await _chunks.ReadLineIndexesAsync(successor));
        Assert.False(await _chunks.AllResultsDoneAsync(job));

        await _results.CompleteChunkAsync(complete.SuccessorChunkId!, default, SuccessorKind.None, [], 2, TimeSpan.Zero);

        Assert.True(await _chunks.AllResultsDoneAsync(job));
    }

    [Fact]
    public async Task SuccessorsCreatedAtTheSameTimeEachTakeANumberOfTheirOwn()
    {
        const int chunks = 20;
        var job = await PlannedJobAsync(chunks);

        var completes = await Task.WhenAll(Enumerable.Range(0, chunks).Select(n =>
            _results.CompleteChunkAsync(ChunkIds.Create(job, n), default, SuccessorKind.Retry, [n], 2, TimeSpan.Zero)));

        var successors = completes.Select(c => c.SuccessorChunkId!).ToList();
        Assert.Equal(Enumerable.Range(chunks, chunks).Select(n => ChunkIds.Create(job, n)), successors.OrderBy(ChunkIds.NumberOf));
        Assert.Equal(Enumerable.Range(0, 2 * chunks).Select(n => ChunkIds.Create(job, n)), await _chunks.ListAsync(job));
        for (var n = 0; n < chunks; n++)
            Assert.Equal(new long[] { n }, await _chunks.ReadLineIndexesAsync((await _chunks.GetAsync(completes[n].SuccessorChunkId!))!));
        Assert.Equal(2 * chunks, (long)await Db.HashGetAsync(RedisKeys.JobChunkStats(job), ChunkStatsFields.Chunks));
        Assert.Equal(chunks, (long)await Db.HashGetAsync(RedisKeys.JobChunkStats(job), ChunkStatsFields.Done));
    }

    [Fact]
    public async Task UsageAProviderReportsAfterAChunkIsDoneReplacesItsLinesUsageInTheJob()
    {
        var job = await PlannedJobAsync(1);
        var chunkId = ChunkIds.Create(job, 0);
        var schedule = new PollSchedule(_redis.Multiplexer);
        await schedule.ScheduleAsync(chunkId, DateTimeOffset.UtcNow.AddSeconds(-1));
        var claim = (await schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();
        await _results.CompleteChunkAsync(chunkId, new TokenUsage(5, 0, 5, 0), SuccessorKind.None, [], 1, TimeSpan.Zero);
        Assert.Equal(new TokenUsage(5, 0, 5, 0), await _results.SumUsageAsync(job));

        Assert.True(await schedule.ApplyAsync(claim, new ProviderBatchSnapshot
        {
            Id = "batch_x",
            Status = JobStatus.Completed,
            RequestCounts = new ProviderRequestCounts(10, 10, 0),
            Usage = new ProviderUsage(100, 20, 50, 5, 150),
        }, TimeSpan.FromSeconds(1), TimeSpan.Zero));

        Assert.Equal(new TokenUsage(100, 20, 50, 5), await _results.SumUsageAsync(job));
    }

    private async Task<string> PlannedJobAsync(int chunks)
    {
        var job = JobIds.New();
        await Db.HashSetAsync(RedisKeys.Job(job), [new(JobFields.Status, JobStatus.InProgress)]);
        var plan = Enumerable.Range(0, chunks).Select(n => new PlannedChunk(n * 10L, 10, 0)).ToList();
        Assert.Equal(PlanResult.Planned, (await _chunks.PlanAsync(job, chunks * 10L, plan)).Result);
        return job;
    }
}
