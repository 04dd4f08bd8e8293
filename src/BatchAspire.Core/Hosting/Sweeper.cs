using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Core.Hosting;

/// <summary>
/// The one loop shape of BatchAspire's background sweepers (expired files, stranded jobs, delayed chunks, job
/// deadlines, provider files, blobs): a round at start, then one every <see cref="Interval"/>; another round at once
/// while a round says more is due (it took a full claim), so a backlog drains without waiting an interval per claim.
/// A failed round (Redis, the broker or the blob store away for a moment) is logged and the next round tries again:
/// an exception leaving <see cref="ExecuteAsync"/> would stop the whole host, and with it the service's consumers.
/// Rounds are safe on several replicas at once: each claims or changes its work atomically in Redis.
/// </summary>
public abstract partial class Sweeper(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The clock of the rounds (tests pass a fake one).</summary>
    protected TimeProvider Time { get; } = time;

    /// <summary>The sweeper's own logger, for what its rounds do.</summary>
    protected ILogger Logger { get; } = logger;

    /// <summary>The wait after a round that left nothing due.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>One round of work; true when more is due right away.</summary>
    protected abstract Task<bool> SweepRoundAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await SweepRoundAsync(stoppingToken);
            }
            catch (Exception exception) when (!exception.IsHostStopping(stoppingToken))
            {
                LogRoundFailed(Logger, exception, GetType().Name, Interval);
            }
            if (more) continue;
            try
            {
                await Task.Delay(Interval, Time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Sweeper} round failed; the next round, in {Interval}, tries again")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception, string sweeper, TimeSpan interval);
}
