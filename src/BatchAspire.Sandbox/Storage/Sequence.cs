namespace BatchAspire.Sandbox.Storage;

/// <summary>A strictly increasing position shared by files and batches; lists page by it.</summary>
public sealed class Sequence
{
    private long _last;

    public void Observe(long seq)
    {
        long current;
        while ((current = Interlocked.Read(ref _last)) < seq && Interlocked.CompareExchange(ref _last, seq, current) != current) { }
    }

    public long Next() => Interlocked.Increment(ref _last);
}
