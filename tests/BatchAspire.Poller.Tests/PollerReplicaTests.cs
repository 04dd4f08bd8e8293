using System.Collections.Concurrent;
using System.Diagnostics;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Telemetry;
using BatchAspire.Poller.Polling;
using BatchAspire.Poller.Tests.Support;
using StackExchange.Redis;

namespace BatchAspire.Poller.Tests;

/// <summary>Poller replicas as in-process hosts sharing one real Redis, against a fake provider on loopback.</summary>
public sealed class PollerReplicaTests(RedisFixture fixture) : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan IdleDelay = TimeSpan.FromMilliseconds(50);

    private readonly List<PollerReplica> _replicas = [];
    private FakeProvider _provider = null!;
    // The poll schedule is one global key: a database of its own keeps the other tests' chunks out of this test's polls.
    private IsolatedRedis _redis = null!;
    private IDatabase Db => _redis.Db;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);
        _provider = await FakeProvider.StartAsync();
        _provider.Latency = TimeSpan.FromMilliseconds(5);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas) await replica.DisposeAsync();
        await _provider.DisposeAsync();
        await _redis.DisposeAsync();
    }

    /// <summary>Registers each seeded chunk's provider batch at the fake provider.</summary>
    private Action<string, string, long> AtProvider => (id, status, total) => _provider.SetBatch(id, status, total);

    private async Task<PollerReplica> StartReplicaAsync(string name)
    {
        var replica = await PollerReplica.StartAsync(name, _redis.ConnectionString,
            PollerReplica.TestSettings(_provider.BaseUrl), TestContext.Current.CancellationToken);
        _replicas.Add(replica);
        return replica;
    }

    /// <summary>
    /// After a poll the chunk is due one interval later, so two GETs of one batch less than half an interval
    /// apart are two polls of the same due time.
    /// </summary>
    private static List<(string BatchId, TimeSpan Gap)> DoublePolls(IEnumerable<ProviderGet> gets) =>
        gets.GroupBy(g => g.BatchId)
            .SelectMany(group =>
            {
                var starts = group.Select(g => g.Started).Order().ToList();
                return starts.Zip(starts.Skip(1), (a, b) => (group.Key, Gap: b - a));
            })
            .Where(pair => pair.Gap < Interval / 2)
            .ToList();

    [Fact]
    public async Task ThreeReplicasPollEveryChunkOncePerDueTime()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 200, JobStatus.InProgress);
        foreach (var name in new[] { "a", "b", "c" }) await StartReplicaAsync(name);

        await Task.Delay(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        foreach (var replica in _replicas) await replica.StopAsync();

        var gets = _provider.Gets.Where(g => job.ProviderBatchIds.Contains(g.BatchId)).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{gets.Count} GETs of 200 chunks in 5 s by {string.Join(", ", gets.GroupBy(g => g.Replica).Select(g => $"{g.Key}: {g.Count()}"))}; " +
            $"smallest gap between two GETs of one batch {gets.GroupBy(g => g.BatchId).Min(g => { var s = g.Select(x => x.Started).Order().ToList(); return s.Zip(s.Skip(1), (x, y) => y - x).DefaultIfEmpty(TimeSpan.MaxValue).Min(); }).TotalSeconds:F3} s");
        Assert.Empty(DoublePolls(gets));
        // Every chunk was polled about once a second, and the work really was shared.
        var perChunk = gets.GroupBy(g => g.BatchId).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(200, perChunk.Count);
        Assert.All(perChunk.Values, count => Assert.InRange(count, 3, 6));
        Assert.All(new[] { "a", "b", "c" }, name => Assert.Contains(gets, g => g.Replica == name));
    }

    [Fact]
    public async Task ChunksOfAReplicaThatDiesArePolledByTheOthersWithinTheLease()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 200, JobStatus.InProgress);
        var a = await StartReplicaAsync("a");
        var b = await StartReplicaAsync("b");
        var c = await StartReplicaAsync("c");
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);

        // Replica c gets stuck mid-poll holding leases, then dies without giving anything back.
        _provider.HangReplica = "c";
        Assert.True(await TestJobs.WaitUntilAsync(() => _provider.Gets.Count(g => g.Replica == "c" && g.Ended is null && g.Started > TimeSpan.Zero && g.AnsweredStatus is null) >= 3, TimeSpan.FromSeconds(5)));
        await c.KillAsync();
        var killedAt = _provider.Now;
        var stranded = _provider.Gets.Where(g => g.Replica == "c" && g.AnsweredStatus is null).ToList();
        Assert.NotEmpty(stranded);

        // Each stranded chunk is due again when its lease lapses, and a survivor claims it within IdleDelay.
        var bound = Lease + IdleDelay + TimeSpan.FromMilliseconds(750);   // slack for a loaded two-core machine
        var takenOver = await TestJobs.WaitUntilAsync(
            () => stranded.All(s => _provider.GetsOf(s.BatchId).Any(g => g.Replica != "c" && g.Started > s.Started)),
            bound + TimeSpan.FromSeconds(3));
        await a.StopAsync();
        await b.StopAsync();

        Assert.True(takenOver, "stranded chunks were not polled again");
        var delays = stranded.Select(s => _provider.GetsOf(s.BatchId).Where(g => g.Replica != "c" && g.Started > s.Started).Min(g => g.Started) - s.Started).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{stranded.Count} stranded chunks taken over after {delays.Min().TotalSeconds:F2}-{delays.Max().TotalSeconds:F2} s (lease {Lease.TotalSeconds} s, bound {bound.TotalSeconds:F2} s)");
        Assert.All(delays, delay => Assert.InRange(delay, Lease * 0.9, bound));
        Assert.Empty(DoublePolls(_provider.Gets.Where(g => job.ProviderBatchIds.Contains(g.BatchId))));
        Assert.True(_provider.Gets.Where(g => g.Replica == "c").All(g => g.Started < killedAt));
    }

    [Fact]
    public async Task TerminalStatusPublishesChunkFinishedThenUnschedulesTheChunk()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 3, JobStatus.InProgress);
        var replicas = new[] { await StartReplicaAsync("a"), await StartReplicaAsync("b") };
        Assert.True(await TestJobs.WaitUntilAsync(() => job.ProviderBatchIds.All(id => _provider.GetsOf(id).Any()), TimeSpan.FromSeconds(5)));

        for (var i = 0; i < 3; i++)
        {
            _provider.SetBatch(job.ProviderBatchIds[i], i == 2 ? JobStatus.Expired : JobStatus.Completed, total: 10, completed: 8, failed: 2,
                outputFileId: $"file-out-{i}", errorFileId: $"file-err-{i}", withUsage: true);
        }
        Assert.True(await TestJobs.WaitUntilAsync(async () => await Db.SortedSetLengthAsync(RedisKeys.PollDue) == 0, TimeSpan.FromSeconds(5)));

        var finished = replicas.SelectMany(r => r.Harness.Published.Select<ChunkFinished>().Select(m => m.Context.Message)).ToList();
        Assert.Equal(job.ChunkIds.Order(), finished.Select(m => m.ChunkId).Order());
        Assert.All(finished, m => Assert.Equal(job.JobId, m.JobId));
        Assert.Equal(JobStatus.Expired, finished.Single(m => m.ChunkId == job.ChunkIds[2]).ProviderStatus);
        Assert.Equal(job.ProviderBatchIds[0], finished.Single(m => m.ChunkId == job.ChunkIds[0]).ProviderBatchId);

        var chunk = (await Db.HashGetAllAsync(RedisKeys.Chunk(job.ChunkIds[0]))).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        Assert.Equal(JobStatus.Completed, chunk[ChunkPollFields.Status]);
        Assert.Equal("8", chunk[ChunkPollFields.ProviderCompleted]);
        Assert.Equal("2", chunk[ChunkPollFields.ProviderFailed]);
        Assert.Equal("file-out-0", chunk[ChunkPollFields.ProviderOutputFileId]);
        Assert.Equal("file-err-0", chunk[ChunkPollFields.ProviderErrorFileId]);
        Assert.Equal("150", chunk[ChunkPollFields.TotalTokens]);
        Assert.True(chunk.ContainsKey(ChunkPollFields.PollDoneAtMs));

        // Off the schedule means no more provider calls for these batches.
        var getsAtEnd = _provider.Gets.Count;
        await Task.Delay(Interval * 1.5, TestContext.Current.CancellationToken);
        Assert.Equal(getsAtEnd, _provider.Gets.Count);
    }

    [Fact]
    public async Task PollsKeepTheJobsCachedStatusAndCompletedCount()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 2, JobStatus.Validating);
        await StartReplicaAsync("a");
        var jobKey = RedisKeys.Job(job.JobId);

        Assert.True(await TestJobs.WaitUntilAsync(() => job.ProviderBatchIds.All(id => _provider.GetsOf(id).Any(g => g.AnsweredStatus is not null)), TimeSpan.FromSeconds(5)));
        Assert.Equal(JobStatus.Validating, (string?)await Db.HashGetAsync(jobKey, JobFields.Status));

        _provider.SetBatch(job.ProviderBatchIds[0], JobStatus.InProgress, completed: 3);
        Assert.True(await TestJobs.WaitUntilAsync(async () => (string?)await Db.HashGetAsync(jobKey, JobFields.Status) == JobStatus.InProgress, TimeSpan.FromSeconds(5)));
        Assert.True(await Db.HashExistsAsync(jobKey, JobFields.InProgressAt));
        Assert.Equal(3, (long)await Db.HashGetAsync(jobKey, JobFields.RequestCompleted));

        _provider.SetBatch(job.ProviderBatchIds[1], JobStatus.InProgress, completed: 4);
        _provider.SetBatch(job.ProviderBatchIds[0], JobStatus.Finalizing, completed: 10);
        Assert.True(await TestJobs.WaitUntilAsync(async () => (long)await Db.HashGetAsync(jobKey, JobFields.RequestCompleted) == 14, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task PollSpanContinuesTheJobsTrace()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PollerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 1, JobStatus.InProgress);
        await StartReplicaAsync("a");

        Assert.True(await TestJobs.WaitUntilAsync(() => spans.Any(s => (string?)s.GetTagItem(TelemetryTags.ChunkId) == job.ChunkIds[0]), TimeSpan.FromSeconds(5)));

        var span = spans.First(s => (string?)s.GetTagItem(TelemetryTags.ChunkId) == job.ChunkIds[0]);
        var parent = ActivityContext.Parse(job.TraceParent, null);
        Assert.Equal("poll chunk", span.DisplayName);
        Assert.Equal(parent.TraceId, span.TraceId);
        Assert.Equal(parent.SpanId, span.ParentSpanId);
        Assert.Equal(job.JobId, span.GetTagItem(TelemetryTags.JobId));
        Assert.Equal(JobStatus.InProgress, span.GetTagItem(TelemetryTags.ProviderStatus));
        Assert.Equal("applied", span.GetTagItem(TelemetryTags.Outcome));
    }

    [Fact]
    public async Task ProviderErrorsBackOffWithoutLosingTheChunk()
    {
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 1, JobStatus.InProgress);
        var failing = 0;
        _provider.Intercept = async context =>
        {
            if (Interlocked.Increment(ref failing) > 2) return false;
            await FakeProvider.WriteErrorAsync(context, 400, "bad request");
            return true;
        };
        await StartReplicaAsync("a");

        Assert.True(await TestJobs.WaitUntilAsync(async () =>
            (string?)await Db.HashGetAsync(RedisKeys.Chunk(job.ChunkIds[0]), ChunkPollFields.Status) == JobStatus.InProgress, TimeSpan.FromSeconds(6)));
        Assert.Equal(0, (long)await Db.HashGetAsync(RedisKeys.Chunk(job.ChunkIds[0]), ChunkPollFields.PollErrors));
        Assert.NotNull(await Db.SortedSetScoreAsync(RedisKeys.PollDue, job.ChunkIds[0]));
    }
}
