using System.Threading.Channels;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// Cuts the poll loop's idle sleep short: set by a <c>PollNotices</c> hint (a chunk was scheduled) and by
/// every poll of this replica that ends (it has just rescheduled its chunk, maybe sooner than the loop's sleep).
/// Wakes given while the loop is awake are kept (at most one), so none falls between a claim and the sleep after it.
/// </summary>
internal sealed class PollWake
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public void Set() => _signal.Writer.TryWrite(true);

    /// <summary>Forgets earlier wakes. Called right before a claim, which sees all the work they announced.</summary>
    public void Clear()
    {
        while (_signal.Reader.TryRead(out _)) { }
    }

    /// <summary>Sleeps for <paramref name="delay"/> or until <see cref="Set"/>; true when woken early.</summary>
    public async Task<bool> SleepAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        if (_signal.Reader.TryRead(out _)) return true;
        if (delay <= TimeSpan.Zero) return false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(delay);
        try
        {
            await _signal.Reader.WaitToReadAsync(timeout.Token);
            _signal.Reader.TryRead(out _);
            return true;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
