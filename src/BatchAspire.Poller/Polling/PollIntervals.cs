using BatchAspire.Core.Jobs;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// Adaptive poll intervals: fast while validating, fast again whenever the status changes, and growing by
/// <see cref="PollerOptions.BackoffFactor"/> up to <see cref="PollerOptions.MaxInterval"/> while it stays the same.
/// Within that interval, the provider's own progress can bring the next poll forward (<see cref="NextDelay"/>).
/// </summary>
public static class PollIntervals
{
    public static TimeSpan Next(PollerOptions options, string? previousStatus, TimeSpan? previousInterval, string status)
    {
        if (status == JobStatus.Validating)
        {
            return options.ValidatingInterval;
        }
        if (status != previousStatus || previousInterval is not { } previous || previous <= TimeSpan.Zero)
        {
            // Finalizing is the last step before the result files exist: usually short, so looked at sooner.
            return status == JobStatus.Finalizing && options.FinalizingInterval < options.InitialInterval
                ? options.FinalizingInterval
                : options.InitialInterval;
        }
        var grown = previous * options.BackoffFactor;
        return grown > options.MaxInterval ? options.MaxInterval : grown;
    }

    /// <summary>
    /// How long to wait before the next poll of a batch that is not terminal: <paramref name="interval"/>, or less
    /// when the batch is running and the requests it answered since the last poll say it will be done sooner. The
    /// estimate (remaining requests at the rate seen between the two polls) is never below
    /// <see cref="PollerOptions.MinInterval"/> and never beyond <paramref name="interval"/>: a batch that makes no
    /// progress is left to the back-off, so a stalled provider is not asked more often.
    /// </summary>
    public static TimeSpan NextDelay(PollerOptions options, TimeSpan interval, PollProgress progress)
    {
        if (progress.Status != JobStatus.InProgress || progress.Total <= 0
            || progress.PreviousDone is not { } previousDone || progress.PreviousPolledAtMs is not { } previousPolledAtMs)
        {
            return interval;
        }
        TimeSpan estimate;
        if (progress.Done >= progress.Total)
        {
            // Every request is answered: the batch is about to finalize.
            estimate = TimeSpan.Zero;
        }
        else
        {
            var answered = progress.Done - previousDone;
            var elapsedMs = progress.NowMs - previousPolledAtMs;
            if (answered <= 0 || elapsedMs <= 0) return interval;
            estimate = TimeSpan.FromMilliseconds((double)(progress.Total - progress.Done) * elapsedMs / answered);
        }
        var floor = options.MinInterval < interval ? options.MinInterval : interval;
        return estimate < floor ? floor : estimate > interval ? interval : estimate;
    }
}

/// <summary>What one poll saw of a batch's progress, next to what the poll before it saw (Redis time, unix ms).</summary>
public readonly record struct PollProgress(string Status, long Done, long Total, long NowMs, long? PreviousDone, long? PreviousPolledAtMs);
