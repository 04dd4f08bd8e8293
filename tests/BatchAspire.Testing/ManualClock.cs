namespace BatchAspire.Testing;

/// <summary>A clock the test sets, for sweeps and bounds that would otherwise take minutes or days of real time.</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
