using BatchAspire.Core.Pricing;

namespace BatchAspire.Core.Chunks;

/// <summary>A job's chunk counters as read: its chunks, those whose results are stored, and the usage of those.</summary>
public sealed record ChunkStats(long Chunks, long Done, TokenUsage DoneUsage)
{
    /// <summary>Every chunk of the job has its results stored (a job without chunks has none done).</summary>
    public bool AllDone => Chunks > 0 && Done == Chunks;
}
