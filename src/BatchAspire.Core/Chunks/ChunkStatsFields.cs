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

    /// <summary>
    /// The cost ledger: <c>p:{provider}:{what}</c>, provider '' for the default provider, what one of
    /// <see cref="LedgerCompleted"/>, <see cref="LedgerFailed"/> or a usage field above (lib/chunkstats.lua).
    /// </summary>
    public const string LedgerPrefix = "p:";

    /// <summary>Requests the provider answered (their final result is a success from it).</summary>
    public const string LedgerCompleted = "completed";

    /// <summary>Requests whose final result is a failure from the provider (or synthesized for its chunk).</summary>
    public const string LedgerFailed = "failed";
}
