using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Poller.Tests.Support;

namespace BatchAspire.Poller.Tests;

/// <summary>
/// The idle back-off of one replica against a real Redis and the fake provider: it sleeps longer and longer while
/// nothing is due, yet a poll notice, its own polls and the bound of <c>MaxIdleDelay</c> keep every chunk on time.
/// </summary>
public sealed class IdlePollerTests(RedisFixture fixture) : IAsyncLifetime
{
    private PollerReplica? _replica;
    private FakeProvider _provider = null!;
    private IsolatedRedis _redis = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);
        _provider = await FakeProvider.StartAsync();
        _provider.Latency = TimeSpan.FromMilliseconds(5);
    }

    public async ValueTask DisposeAsync()
    {
        if (_replica is not null) await _replica.DisposeAsync();
        await _provider.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Action<string, string, long> AtProvider => (id, status, total) => _provider.SetBatch(id, status, total);

    private async Task StartReplicaAsync(TimeSpan idleDelay, TimeSpan maxIdleDelay)
    {
        var settings = PollerReplica.TestSettings(_provider.BaseUrl);
        settings["Poller:IdleDelay"] = idleDelay.ToString();
        settings["Poller:MaxIdleDelay"] = maxIdleDelay.ToString();
        _replica = await PollerReplica.StartAsync("a", _redis.ConnectionString, settings, TestContext.Current.CancellationToken);
    }

    /// <summary>How long after <paramref name="since"/> the provider first saw a GET of the job's first batch.</summary>
    private async Task<TimeSpan?> FirstPollAfterAsync(TestJobs.SeededJob job, TimeSpan since, TimeSpan timeout)
    {
        var polled = await TestJobs.WaitUntilAsync(() => _provider.GetsOf(job.ProviderBatchIds[0]).Any(), timeout);
        return polled ? _provider.GetsOf(job.ProviderBatchIds[0]).Min(g => g.Started) - since : null;
    }

    [Fact]
    public async Task AnIdlePollerWakesWithinASecondWhenAChunkIsScheduled()
    {
        // Sleeps of 0.5, 1, 2, then 4 s: 4.5 s after it started the replica is in its 4 s sleep (from 3.5 s to 7.5 s).
        await StartReplicaAsync(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(4.5), TestContext.Current.CancellationToken);

        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 1, JobStatus.InProgress);
        var notifiedAt = _provider.Now;
        new PollNotices(_redis.Multiplexer).Scheduled(job.ChunkIds[0]);

        var delay = await FirstPollAfterAsync(job, notifiedAt, TimeSpan.FromSeconds(10));
        TestContext.Current.TestOutputHelper?.WriteLine($"first poll {delay?.TotalSeconds:F3} s after the notice");
        Assert.NotNull(delay);
        Assert.InRange(delay.Value, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task WithoutANoticeAnIdlePollerStillFindsANewChunkWithinMaxIdleDelay()
    {
        var maxIdleDelay = TimeSpan.FromSeconds(1);
        await StartReplicaAsync(TimeSpan.FromMilliseconds(50), maxIdleDelay);
        await Task.Delay(TimeSpan.FromSeconds(2.5), TestContext.Current.CancellationToken);   // backed off to the cap

        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 1, JobStatus.InProgress);   // no notice
        var scheduledAt = _provider.Now;

        var delay = await FirstPollAfterAsync(job, scheduledAt, TimeSpan.FromSeconds(5));
        TestContext.Current.TestOutputHelper?.WriteLine($"first poll {delay?.TotalSeconds:F3} s after scheduling, no notice");
        Assert.NotNull(delay);
        Assert.InRange(delay.Value, TimeSpan.Zero, maxIdleDelay + TimeSpan.FromMilliseconds(750));   // slack for a loaded machine
    }

    [Fact]
    public async Task ABackedOffPollerKeepsPollingItsChunkEveryInterval()
    {
        // The only chunk is polled every second (TestSettings), but even the loop's shortest idle sleep is 2 s, and the
        // claim that took the chunk saw it due next only at its lease's end: the poll that ends must wake the loop,
        // which then sleeps only until the chunk's new due time.
        var job = await TestJobs.SeedAsync(_redis.Multiplexer, AtProvider, 1, JobStatus.InProgress);
        await StartReplicaAsync(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4));

        await Task.Delay(TimeSpan.FromSeconds(6), TestContext.Current.CancellationToken);
        await _replica!.StopAsync();

        var starts = _provider.GetsOf(job.ProviderBatchIds[0]).Select(g => g.Started).Order().ToList();
        var gaps = starts.Zip(starts.Skip(1), (a, b) => b - a).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{starts.Count} polls, gaps {string.Join(", ", gaps.Select(g => g.TotalSeconds.ToString("F2")))} s");
        Assert.InRange(starts.Count, 5, 7);
        Assert.All(gaps, gap => Assert.InRange(gap, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(1.5)));
    }
}
