using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Chunks;

/// <summary>A job's chunk counters as read: its chunks, those whose results are stored, and the usage of those.</summary>
public sealed record ChunkStats(long Chunks, long Done, TokenUsage DoneUsage)
{
    /// <summary>Every chunk of the job has its results stored (a job without chunks has none done).</summary>
    public bool AllDone => Chunks > 0 && Done == Chunks;
}

/// <summary>
/// Reads a job's chunk counters (<c>ba:{jobId}:chunkstats</c>), which the chunk scripts keep as they create chunks and
/// close their results, so finalizing costs one read per message instead of one per chunk. A job planned before the
/// counters existed has none: they are counted from its chunk list once (<c>Redis/Lua/chunks/recount.lua</c>), and
/// kept from then on.
/// </summary>
internal sealed class ChunkCounters(IConnectionMultiplexer redis)
{
    private static readonly RedisScript Recount = RedisScript.Load("chunks/recount");
    private static readonly RedisValue[] Fields =
    [
        ChunkStatsFields.Chunks, ChunkStatsFields.Done, ChunkStatsFields.InputTokens, ChunkStatsFields.CachedTokens,
        ChunkStatsFields.OutputTokens, ChunkStatsFields.ReasoningTokens,
    ];

    public async Task<ChunkStats> ReadAsync(string jobId)
    {
        var db = redis.GetDatabase();
        var key = RedisKeys.JobChunkStats(jobId);
        var values = await db.HashGetAsync(key, Fields);
        // A planned job has its counters, a job not planned yet has no chunk list; only a job planned by an older
        // version has a list and no counters.
        while (values[0].IsNull)
        {
            var ids = await db.ListRangeAsync(RedisKeys.JobChunks(jobId));
            if (ids.Length == 0) return new ChunkStats(0, 0, default);
            RedisKey[] keys = [key, RedisKeys.JobChunks(jobId), .. ids.Select(id => RedisKeys.Chunk((string)id!))];
            await Recount.EvaluateAsync(db, keys);
            values = await db.HashGetAsync(key, Fields);
        }
        return new ChunkStats(Long(values[0]), Long(values[1]),
            new TokenUsage(Long(values[2]), Long(values[3]), Long(values[4]), Long(values[5])));
    }

    private static long Long(RedisValue value) => value.IsNull ? 0 : (long)value;
}
