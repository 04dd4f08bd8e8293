using System.ComponentModel.DataAnnotations;

namespace BatchAspire.Poller.Polling;

/// <summary>
/// Poller settings (section <c>Poller</c>). The takeover bound for a dead replica's chunks is about
/// <see cref="Lease"/>: its leases lapse, and a live replica sleeps no later than the earliest due time (a lease's
/// end included) its last claim saw; a lease taken after that claim adds at most <see cref="MaxIdleDelay"/>.
/// </summary>
public sealed class PollerOptions
{
    public const string SectionName = "Poller";

    /// <summary>Provider GETs in flight at once in one replica.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentPolls { get; set; } = 16;

    /// <summary>Most chunks one claim takes; a replica never claims more than it has free slots.</summary>
    [Range(1, 1000)]
    public int ClaimBatchSize { get; set; } = 64;

    /// <summary>
    /// How long a claim hides a chunk from other replicas. A replica that dies holding it leaves it due again
    /// when the lease lapses. A provider GET is cancelled before its lease ends, so one poll never overlaps the next.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// First sleep when a claim finds nothing due; each further empty claim doubles it up to <see cref="MaxIdleDelay"/>.
    /// A sleep never runs past the earliest due time in the schedule, so only chunks scheduled meanwhile wait for it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Cap of the idle back-off: an idle replica claims this rarely, so idle pollers cost next to no CPU. A chunk the
    /// submitter schedules wakes them at once through <see cref="PollNotices"/>; only if that hint is lost does its
    /// first poll wait up to this long.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan MaxIdleDelay { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Interval while the provider batch is validating: fast, validation takes seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ValidatingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Interval after the status changes (and at the first poll); it then grows by <see cref="BackoffFactor"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan InitialInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Interval when a batch is first seen finalizing (the result files are moments away); it then grows as any other.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan FinalizingInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The shortest wait the provider's progress can choose: a running batch whose answered requests say it will be
    /// done before its back-off interval is over is polled then, but never sooner than this after the last poll.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MinInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Growth per poll that sees the same status: a long batch is asked less and less often.</summary>
    [Range(1.0, 10.0)]
    public double BackoffFactor { get; set; } = 1.5;

    /// <summary>Cap of the growing interval.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>First wait after a failed provider call; doubles per failure in a row up to <see cref="MaxInterval"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ErrorInterval { get; set; } = TimeSpan.FromSeconds(5);
}
