using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;

namespace BatchAspire.Poller.Tests;

public sealed class PollIntervalsTests
{
    private static readonly PollerOptions Options = new()
    {
        ValidatingInterval = TimeSpan.FromSeconds(1),
        InitialInterval = TimeSpan.FromSeconds(2),
        BackoffFactor = 1.5,
        MaxInterval = TimeSpan.FromSeconds(5),
    };

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
        Assert.Equal(TimeSpan.FromSeconds(2), PollIntervals.Next(Options, JobStatus.InProgress, TimeSpan.FromSeconds(5), JobStatus.Finalizing));
}
