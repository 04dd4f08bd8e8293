using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// Makes a written file visible in one script, once its blobs are committed: checks the tenant's storage quota, writes
/// the file's hash (with the list position and its parts), lists it for its tenant and, when it expires, for the
/// expired-file sweeper, counts it in the tenant's usage, and takes its blob prefix off the pending list
/// (<see cref="BlobDeletions"/>). Before this script nothing names the file; a refused file changes nothing.
/// </summary>
internal static class FileCommit
{
    private static readonly LuaScript Script = LuaScript.Prepare($$"""
        {{TenantUsage.LuaOver}}
        local used = over(KEYS[6], '{{TenantUsage.StoredBytes}}', ARGV[3], ARGV[4])
        if used then return {'over', '{{QuotaLimit.StoredBytes}}', used} end
        used = over(KEYS[6], '{{TenantUsage.Files}}', 1, ARGV[5])
        if used then return {'over', '{{QuotaLimit.Files}}', used} end
        local seq = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[1], '{{FileFields.Sequence}}', seq, unpack(ARGV, 6))
        redis.call('ZADD', KEYS[3], seq, ARGV[1])
        local expiresAt = redis.call('HGET', KEYS[1], '{{FileFields.ExpiresAt}}')
        if expiresAt then redis.call('ZADD', KEYS[4], expiresAt, ARGV[1]) end
        redis.call('ZREM', KEYS[5], ARGV[2])
        redis.call('HINCRBY', KEYS[6], '{{TenantUsage.StoredBytes}}', ARGV[3])
        redis.call('HINCRBY', KEYS[6], '{{TenantUsage.Files}}', 1)
        return {'ok', seq}
        """);

    /// <summary>Commits the file; throws <see cref="QuotaExceededException"/>, changing nothing, when it would pass <paramref name="quota"/>.</summary>
    public static async Task CommitAsync(IDatabase db, string fileId, string tenant, LinePart part, IEnumerable<HashEntry> fields, TenantQuota quota)
    {
        var args = new List<RedisValue> { fileId, part.Prefix, part.Bytes, TenantUsage.Arg(quota.MaxStoredBytes), TenantUsage.Arg(quota.MaxFiles) };
        foreach (var f in fields) { args.Add(f.Name); args.Add(f.Value); }
        args.AddRange([FileFields.Segments, part.Segments, FileFields.Parts, LinePart.FormatAll([part])]);
        RedisKey[] keys =
        [
            RedisKeys.File(fileId), RedisKeys.Sequence, RedisKeys.TenantFiles(tenant), RedisKeys.ExpiringFiles, RedisKeys.BlobsToDelete,
            RedisKeys.TenantUsage(tenant),
        ];
        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(Script.ExecutableScript, keys, [.. args]))!;
        if ((string)reply[0]! == "over")
        {
            var limit = Enum.Parse<QuotaLimit>((string)reply[1]!);
            throw new QuotaExceededException(limit, limit == QuotaLimit.StoredBytes ? quota.MaxStoredBytes!.Value : quota.MaxFiles!.Value,
                (long)reply[2], limit == QuotaLimit.StoredBytes ? part.Bytes : 1);
        }
    }
}
