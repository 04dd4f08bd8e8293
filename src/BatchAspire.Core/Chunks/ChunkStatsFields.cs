namespace BatchAspire.Core.Chunks;

/// <summary>
/// Fields of a job's chunk counters (<c>RedisKeys.JobChunkStats(jobId)</c>), kept by the scripts that create chunks and
/// close their results (<c>Redis/Lua/lib/chunk.lua</c>): finalizing asks them, instead of every chunk, whether the
/// job's last chunk is done and what the job used.
/// </summary>
public static class ChunkStatsFields
{
    /// <summary>Chunks in the job's chunk list.</summary>
    public const string Chunks = "chunks";

    /// <summary>Chunks whose results are stored (<see cref="ChunkFields.ResultsDone"/> set).</summary>
    public const string Done = "done";

    // The usage of the done chunks: each one's provider batch usage where it reported one, else the sum over its lines.
    public const string InputTokens = "input_tokens";
    public const string CachedTokens = "cached_tokens";
    public const string OutputTokens = "output_tokens";
    public const string ReasoningTokens = "reasoning_tokens";
}
