using BatchAspire.Core.Polling;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// How long the poll loop sleeps after a claim that left slots free. Claims that find nothing double the sleep from
/// <c>IdleDelay</c> up to <c>MaxIdleDelay</c>, so an idle replica stops costing CPU; a claim that finds work starts
/// it over. Whatever the back-off, a sleep ends by the earliest due time the claim saw (a chunk's next poll or a
/// lease's end), so the back-off only ever delays chunks scheduled during the sleep, and those wake the loop
/// through <see cref="PollWake"/>.
/// </summary>
internal sealed class IdleBackoff(TimeSpan initial, TimeSpan max)
{
    private TimeSpan _next = TimeSpan.Zero;   // Zero: not backing off yet, the next sleep is the initial one

    /// <summary>The sleep an empty claim would get now.</summary>
    public TimeSpan Current => _next == TimeSpan.Zero ? initial : _next;

    /// <summary>A claim took as many chunks as it asked for: the replica is busy, so the next idle spell starts short.</summary>
    public void Reset() => _next = TimeSpan.Zero;

    public TimeSpan SleepAfter(PollClaimBatch batch)
    {
        TimeSpan sleep;
        if (batch.Claims.Count > 0)
        {
            Reset();
            sleep = initial;
        }
        else
        {
            sleep = Current;
            _next = sleep * 2 < max ? sleep * 2 : max;
        }
        if (batch.NextDueMs is { } nextDue)
        {
            var untilDue = TimeSpan.FromMilliseconds(Math.Max(0, nextDue - batch.NowMs));
            if (untilDue < sleep) sleep = untilDue;
        }
        return sleep;
    }
}
