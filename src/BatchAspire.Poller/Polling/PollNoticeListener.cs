using BatchAspire.Core.Polling;
using StackExchange.Redis;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// Subscribes to <see cref="PollNotices"/> so a chunk the submitter schedules wakes an idle replica at once. A
/// replica that cannot subscribe still polls everything, only with up to <c>MaxIdleDelay</c> more latency on a
/// chunk's first poll; so a failure here is logged, never fatal.
/// </summary>
internal sealed class PollNoticeListener(PollNotices notices, PollWake wake, ILogger<PollNoticeListener> logger) : IHostedService
{
    private readonly Action<RedisChannel, RedisValue> _handler = (_, _) => wake.Set();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await notices.SubscribeAsync(_handler);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            logger.SubscribeFailed(exception);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await notices.UnsubscribeAsync(_handler);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Shutting down: the connection goes anyway.
        }
    }
}
