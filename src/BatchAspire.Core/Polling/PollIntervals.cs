using BatchAspire.Core.Jobs;

namespace BatchAspire.Core.Polling;

/// <summary>
/// Adaptive poll intervals: fast while validating, fast again whenever the status changes, and growing by
/// <see cref="PollerOptions.BackoffFactor"/> up to <see cref="PollerOptions.MaxInterval"/> while it stays the same.
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
            return options.InitialInterval;
        }
        var grown = previous * options.BackoffFactor;
        return grown > options.MaxInterval ? options.MaxInterval : grown;
    }
}
