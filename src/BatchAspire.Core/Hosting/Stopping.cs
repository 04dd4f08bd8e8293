namespace BatchAspire.Core.Hosting;

/// <summary>Tells the host stopping a loop apart from a call that was canceled for any other reason.</summary>
public static class Stopping
{
    /// <summary>
    /// True only when <paramref name="exception"/> is a cancellation and the host is stopping. Any other cancellation
    /// is a failure like the rest: StackExchange.Redis, for one, may fail a command with a canceled task while the
    /// connection is being re-established, and a loop that let that escape would stop its whole host.
    /// </summary>
    public static bool IsHostStopping(this Exception exception, CancellationToken stoppingToken) =>
        exception is OperationCanceledException && stoppingToken.IsCancellationRequested;
}
