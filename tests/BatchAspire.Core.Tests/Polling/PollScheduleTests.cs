using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Redis;
using BatchAspire.Testing.Polling;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Polling;

/// <summary>The schedule is one global key (<c>ba:poll:due</c>), so each test has a database of its own.</summary>
public sealed class PollScheduleTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private PollSchedule _schedule = null!;
    private IDatabase Db => _redis.Db;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);
        _schedule = new PollSchedule(_redis.Multiplexer);
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private static ProviderBatchSnapshot Batch(string status, long completed = 0, long total = 10, string? output = null) => new()
    {
        Id = "batch_x",
        Status = status,
        RequestCounts = new ProviderRequestCounts(total, completed, 0),
        OutputFileId = output,
    };

    [Fact]
    public async Task ClaimLeasesDueChunksAndFencesEachWithAFreshToken()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 3);

        var batch = await _schedule.ClaimAsync(10, TimeSpan.FromSeconds(30));

        Assert.Equal(job.ChunkIds.Order(), batch.Claims.Select(c => c.ChunkId).Order());
        Assert.Equal(3, batch.Claims.Select(c => c.Fence).Distinct().Count());
        foreach (var claim in batch.Claims)
        {
            Assert.Equal(claim.Fence, (long)await Db.HashGetAsync(RedisKeys.Chunk(claim.ChunkId), ChunkPollFields.Fence));
            Assert.Equal(claim.LeaseUntilMs, (long)(await Db.SortedSetScoreAsync(RedisKeys.PollDue, claim.ChunkId))!.Value);
            Assert.Equal(job.TraceParent, claim.TraceParent);
            Assert.Equal("submitted", claim.PreviousStatus);
            Assert.StartsWith("batch_p", claim.ProviderBatchId);
        }
        Assert.Empty((await _schedule.ClaimAsync(10, TimeSpan.FromSeconds(30))).Claims);
    }

    [Fact]
    public async Task ConcurrentClaimersNeverReceiveTheSameDueChunk()
    {
        var jobs = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => TestJobs.SeedAsync(_redis.Multiplexer, null, 100)));
        var all = jobs.SelectMany(j => j.ChunkIds).ToHashSet();

        // Eight claimers, each on its own connection, race until the schedule has nothing due.
        var claimers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
            var schedule = new PollSchedule(connection);
            var mine = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                var claimed = await schedule.ClaimAsync(7, TimeSpan.FromMinutes(1));
                if (claimed.Claims.Count == 0) return mine;
                mine.AddRange(claimed.Claims.Select(c => c.ChunkId));
            }
            return mine;
        }));

        var claimedIds = claimers.SelectMany(c => c).ToList();
        Assert.Equal(claimedIds.Count, claimedIds.Distinct().Count());
        Assert.True(all.SetEquals(claimedIds));
        Assert.True(claimers.Count(c => c.Count > 0) > 1, "the claimers did not actually race");
    }

    [Fact]
    public async Task FencedWriteWithAStaleTokenChangesNothing()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var chunkId = job.ChunkIds[0];

        // Replica A claims, then stalls past its lease; replica B claims the lapsed chunk and writes newer state.
        var a = (await _schedule.ClaimAsync(1, TimeSpan.FromMilliseconds(200))).Claims.Single();
        await Task.Delay(300, TestContext.Current.CancellationToken);
        var b = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();
        Assert.Equal(chunkId, b.ChunkId);
        Assert.True(b.Fence > a.Fence);
        Assert.True(await _schedule.ApplyAsync(b, Batch(JobStatus.InProgress, completed: 7), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
        var chunkBefore = await Db.HashGetAllAsync(RedisKeys.Chunk(chunkId));
        var jobBefore = await Db.HashGetAllAsync(RedisKeys.Job(job.JobId));
        var dueBefore = await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId);

        // A wakes up with what it read long ago.
        Assert.False(await _schedule.ApplyAsync(a, Batch(JobStatus.Validating, completed: 0), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Null(await _schedule.DeferAfterErrorAsync(a, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
        Assert.False(await _schedule.CompleteAsync(a));

        Assert.Equal(chunkBefore.OrderBy(e => e.Name.ToString()), (await Db.HashGetAllAsync(RedisKeys.Chunk(chunkId))).OrderBy(e => e.Name.ToString()));
        Assert.Equal(jobBefore.OrderBy(e => e.Name.ToString()), (await Db.HashGetAllAsync(RedisKeys.Job(job.JobId))).OrderBy(e => e.Name.ToString()));
        Assert.Equal(dueBefore, await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId));
        Assert.Equal(JobStatus.InProgress, (string?)await Db.HashGetAsync(RedisKeys.Chunk(chunkId), ChunkPollFields.Status));
    }

    [Fact]
    public async Task ApplyMovesTheJobToInProgressOnceAndSumsCompletedAcrossChunks()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 2);
        var claims = (await _schedule.ClaimAsync(10, TimeSpan.FromSeconds(30))).Claims.ToDictionary(c => c.ChunkId);
        var first = claims[job.ChunkIds[0]];
        var second = claims[job.ChunkIds[1]];

        Assert.True(await _schedule.ApplyAsync(first, Batch(JobStatus.Validating), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Equal(JobStatus.Validating, (string?)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.Status));
        Assert.False(await Db.HashExistsAsync(RedisKeys.Job(job.JobId), JobFields.InProgressAt));

        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.True(await _schedule.ApplyAsync(first, Batch(JobStatus.InProgress, completed: 3), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.True(await _schedule.ApplyAsync(second, Batch(JobStatus.InProgress, completed: 4), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        var inProgressAt = (long)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.InProgressAt);
        Assert.InRange(inProgressAt, before - 1, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.Equal(JobStatus.InProgress, (string?)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.Status));
        Assert.Equal(7, (long)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.RequestCompleted));

        // Only the change in a chunk's count reaches the job, so re-polling the same numbers adds nothing.
        Assert.True(await _schedule.ApplyAsync(first, Batch(JobStatus.InProgress, completed: 3), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.True(await _schedule.ApplyAsync(first, Batch(JobStatus.Completed, completed: 10, output: "file-out"), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Equal(14, (long)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.RequestCompleted));
        Assert.Equal(inProgressAt, (long)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.InProgressAt));
        Assert.Equal("file-out", (string?)await Db.HashGetAsync(RedisKeys.Chunk(first.ChunkId), ChunkPollFields.ProviderOutputFileId));
    }

    [Fact]
    public async Task ClaimCarriesWhatTheLastPollSawSoProgressCanBeMeasured()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var first = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();
        Assert.Null(first.PreviousDone);
        Assert.Null(first.PreviousPolledAtMs);

        Assert.True(await _schedule.ApplyAsync(first, Batch(JobStatus.InProgress, completed: 7) with
        {
            RequestCounts = new ProviderRequestCounts(10, 7, 2),
        }, TimeSpan.FromSeconds(1), TimeSpan.Zero));
        var second = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();

        Assert.Equal(job.ChunkIds[0], second.ChunkId);
        Assert.Equal(9, second.PreviousDone);
        Assert.Equal((long)await Db.HashGetAsync(RedisKeys.Chunk(second.ChunkId), ChunkPollFields.PolledAtMs), second.PreviousPolledAtMs);
        Assert.InRange(second.PreviousPolledAtMs!.Value, first.ClaimedAtMs, second.ClaimedAtMs);
    }

    [Fact]
    public async Task ApplyLeavesAFinishedJobsCountsToResults()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var claim = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();
        await Db.HashSetAsync(RedisKeys.Job(job.JobId), [new(JobFields.Status, JobStatus.Completed), new(JobFields.RequestCompleted, 9)]);

        Assert.True(await _schedule.ApplyAsync(claim, Batch(JobStatus.Completed, completed: 10), TimeSpan.FromSeconds(1), TimeSpan.Zero));

        Assert.Equal(JobStatus.Completed, (string?)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.Status));
        Assert.Equal(9, (long)await Db.HashGetAsync(RedisKeys.Job(job.JobId), JobFields.RequestCompleted));
    }

    [Fact]
    public async Task ScheduleIsIdempotentAndNeverShortensALease()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var chunkId = job.ChunkIds[0];
        var claim = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();

        Assert.False(await _schedule.ScheduleAsync(chunkId, DateTimeOffset.UtcNow.AddDays(-1)));

        Assert.Equal(claim.LeaseUntilMs, (long)(await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId))!.Value);
        Assert.Empty((await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims);
    }

    [Fact]
    public async Task CompletedChunkLeavesTheScheduleForGood()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var chunkId = job.ChunkIds[0];
        var claim = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();

        Assert.True(await _schedule.CompleteAsync(claim));
        Assert.Null(await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId));

        // A redelivered ChunkReady (the submitter re-schedules a chunk it finds submitted) must not start polling a finished chunk again.
        Assert.False(await _schedule.ScheduleAsync(chunkId, DateTimeOffset.UtcNow));
        Assert.Null(await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId));
    }

    [Fact]
    public async Task ACompletedChunkWaitsAmongTheFinishedChunksUntilItsResultsAreStored()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 2);
        var claims = (await _schedule.ClaimAsync(2, TimeSpan.FromSeconds(30))).Claims;
        // The second chunk's results were stored before the poller's last step ran (a fast results service).
        await Db.HashSetAsync(RedisKeys.Chunk(job.ChunkIds[1]), ChunkFields.ResultsDone, 1);

        Assert.All(await Task.WhenAll(claims.Select(_schedule.CompleteAsync)), Assert.True);

        // Listed at the time its polling ended: from then on it is quiet until a results pass shows life.
        Assert.Equal(job.ChunkIds[0], (string?)Assert.Single(await Db.SortedSetRangeByRankAsync(RedisKeys.FinishedChunks)));
        Assert.Equal((double)(long)await Db.HashGetAsync(RedisKeys.Chunk(job.ChunkIds[0]), ChunkPollFields.PollDoneAtMs),
            await Db.SortedSetScoreAsync(RedisKeys.FinishedChunks, job.ChunkIds[0]));
    }

    [Fact]
    public async Task ErrorsBackOffByDoublingUpToTheCap()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var claim = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();

        var delays = new List<TimeSpan?>();
        for (var i = 0; i < 5; i++) delays.Add(await _schedule.DeferAfterErrorAsync(claim, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));

        Assert.Equal([1, 2, 4, 5, 5], delays.Select(d => d!.Value.TotalSeconds));
        Assert.True(await _schedule.ApplyAsync(claim, Batch(JobStatus.InProgress), TimeSpan.FromSeconds(1), TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(1), await _schedule.DeferAfterErrorAsync(claim, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)));
        Assert.Equal(job.ChunkIds[0], claim.ChunkId);
    }

    [Fact]
    public async Task ScheduledChunkWhoseKeysAreGoneIsDropped()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        await Db.KeyDeleteAsync(RedisKeys.Chunk(job.ChunkIds[0]));

        Assert.Empty((await _schedule.ClaimAsync(5, TimeSpan.FromSeconds(30))).Claims);
        Assert.Equal(0, await Db.SortedSetLengthAsync(RedisKeys.PollDue));
    }

    [Fact]
    public async Task AClaimerThatStalledPastItsLeaseFencesNothingAnotherHasClaimedSince()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, null, 1);
        var chunkId = job.ChunkIds[0];
        // The first claimer takes the chunk with a short lease and stalls before fencing it; another claims it meanwhile.
        var stalled = await new DueSet(_redis.Multiplexer, RedisKeys.PollDue).ClaimAsync(1, TimeSpan.FromMilliseconds(1));
        await Task.Delay(20, TestContext.Current.CancellationToken);
        var other = (await _schedule.ClaimAsync(1, TimeSpan.FromSeconds(30))).Claims.Single();

        var late = await RedisScript.Load("poll/fence").EvaluateAsync(Db,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(job.JobId), RedisKeys.PollFence, RedisKeys.PollDue], chunkId, stalled.NowMs + 1);

        Assert.True(late.IsNull);
        Assert.Equal(other.Fence, (long)await Db.HashGetAsync(RedisKeys.Chunk(chunkId), ChunkPollFields.Fence));
        Assert.Equal(other.LeaseUntilMs, (long)(await Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId))!.Value);
    }
}
