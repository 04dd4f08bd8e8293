using BatchAspire.Core.Jobs;
using BatchAspire.Poller.Polling;

namespace BatchAspire.Poller.Tests;

public sealed class PollIntervalsTests
{
    private static readonly PollerOptions Options = new()
    {
        ValidatingInterval = TimeSpan.FromSeconds(1),
        InitialInterval = TimeSpan.FromSeconds(2),
        BackoffFactor = 1.5,
        MaxInterval = TimeSpan.FromSeconds(5),
        FinalizingInterval = TimeSpan.FromMilliseconds(250),
        MinInterval = TimeSpan.FromMilliseconds(200),
    };

    private static TimeSpan Delay(long done, long? previousDone, long elapsedMs, string status = JobStatus.InProgress, long total = 1000) =>
        PollIntervals.NextDelay(Options, TimeSpan.FromSeconds(3), new PollProgress(status, done, total, 10_000 + elapsedMs, previousDone, 10_000));

    [Fact]
    public void ValidatingIsAlwaysPolledFast() =>
        Assert.Equal(TimeSpan.FromSeconds(1), PollIntervals.Next(Options, JobStatus.Validating, TimeSpan.FromSeconds(1), JobStatus.Validating));

    [Fact]
    public void LongRunningBatchBacksOffUpToTheCap()
    {
        var interval = PollIntervals.Next(Options, "submitted", null, JobStatus.InProgress);
        var seen = new List<double> { interval.TotalSeconds };
        for (var i = 0; i < 4; i++)
        {
            interval = PollIntervals.Next(Options, JobStatus.InProgress, interval, JobStatus.InProgress);
            seen.Add(interval.TotalSeconds);
        }
        Assert.Equal([2, 3, 4.5, 5, 5], seen);
    }

    [Fact]
    public void StatusChangeResetsTheInterval() =>
        Assert.Equal(TimeSpan.FromSeconds(2), PollIntervals.Next(Options, JobStatus.Validating, TimeSpan.FromSeconds(5), JobStatus.InProgress));

    [Fact]
    public void FinalizingIsFirstLookedAtSoonerThanOtherStatuses() =>
        Assert.Equal(TimeSpan.FromMilliseconds(250), PollIntervals.Next(Options, JobStatus.InProgress, TimeSpan.FromSeconds(5), JobStatus.Finalizing));

    [Fact]
    public void RunningBatchIsPolledWhenItsProgressSaysItWillBeDone()
    {
        // 400 of 1000 answered at 200 per second: done in 3 s, the back-off interval (3 s) decides.
        Assert.Equal(TimeSpan.FromSeconds(3), Delay(done: 400, previousDone: 200, elapsedMs: 1000));
        // 800 answered at 400 per second: done in 0.5 s.
        Assert.Equal(TimeSpan.FromMilliseconds(500), Delay(done: 800, previousDone: 400, elapsedMs: 1000));
    }

    [Fact]
    public void ProgressNeverBringsAPollCloserThanTheMinimum()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(200), Delay(done: 999, previousDone: 0, elapsedMs: 1000));
        Assert.Equal(TimeSpan.FromMilliseconds(200), Delay(done: 1000, previousDone: 990, elapsedMs: 1000));
    }

    [Fact]
    public void BatchWithoutProgressIsLeftToTheBackOff()
    {
        Assert.Equal(TimeSpan.FromSeconds(3), Delay(done: 500, previousDone: 500, elapsedMs: 1000));
        Assert.Equal(TimeSpan.FromSeconds(3), Delay(done: 500, previousDone: null, elapsedMs: 1000));
        Assert.Equal(TimeSpan.FromSeconds(3), Delay(done: 0, previousDone: 0, elapsedMs: 1000, status: JobStatus.Validating));
        Assert.Equal(TimeSpan.FromSeconds(3), Delay(done: 10, previousDone: 0, elapsedMs: 1000, status: JobStatus.Finalizing));
    }
}
