using BatchAspire.Core.Polling;
using BatchAspire.Poller.Polling;

namespace BatchAspire.Poller.Tests;

public sealed class IdleBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(4);

    private static PollClaimBatch Empty(long? nextDueInMs = null) => new([], 1_000_000, nextDueInMs is { } ms ? 1_000_000 + ms : null);

    private static PollClaimBatch WithOneClaim() => new(
        [new PollClaim { ChunkId = "batch_x.0", Fence = 1, DueAtMs = 1_000_000, ClaimedAtMs = 1_000_000, LeaseUntilMs = 1_030_000 }],
        1_000_000, 1_030_000);

    [Fact]
    public void EmptyClaimsDoubleTheSleepUpToTheCap()
    {
        var backoff = new IdleBackoff(Initial, Max);
        var sleeps = Enumerable.Range(0, 7).Select(_ => backoff.SleepAfter(Empty()).TotalMilliseconds).ToList();
        Assert.Equal([250, 500, 1000, 2000, 4000, 4000, 4000], sleeps);
    }

    [Fact]
    public void AClaimThatFindsWorkStartsTheBackOffOver()
    {
        var backoff = new IdleBackoff(Initial, Max);
        for (var i = 0; i < 5; i++) backoff.SleepAfter(Empty());
        Assert.Equal(Max, backoff.Current);

        backoff.SleepAfter(WithOneClaim());
        Assert.Equal(Initial, backoff.SleepAfter(Empty()));
        Assert.Equal(Initial * 2, backoff.Current);

        backoff.Reset();
        Assert.Equal(Initial, backoff.Current);
    }

    [Fact]
    public void ASleepNeverRunsPastTheEarliestDueTime()
    {
        var backoff = new IdleBackoff(Initial, Max);
        for (var i = 0; i < 5; i++) backoff.SleepAfter(Empty());

        Assert.Equal(TimeSpan.FromMilliseconds(700), backoff.SleepAfter(Empty(nextDueInMs: 700)));
        Assert.Equal(TimeSpan.Zero, backoff.SleepAfter(Empty(nextDueInMs: -50)));
        Assert.Equal(Max, backoff.SleepAfter(Empty(nextDueInMs: 60_000)));
    }
}
