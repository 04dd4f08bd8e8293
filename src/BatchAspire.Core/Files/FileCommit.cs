using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// Makes a written file visible in one script, once its blobs are committed: writes its hash (with the list
/// position and its parts), lists it for its tenant and, when it expires, for the expired-file sweeper, and takes its
/// blob prefix off the pending list (<see cref="BlobDeletions"/>). Before this script nothing names the file.
/// </summary>
internal static class FileCommit
{
    private static readonly LuaScript Script = LuaScript.Prepare($$"""
        local seq = redis.call('INCR', KEYS[2])
        redis.call('HSET', KEYS[1], '{{FileFields.Sequence}}', seq, unpack(ARGV, 3))
        redis.call('ZADD', KEYS[3], seq, ARGV[1])
        local expiresAt = redis.call('HGET', KEYS[1], '{{FileFields.ExpiresAt}}')
        if expiresAt then redis.call('ZADD', KEYS[4], expiresAt, ARGV[1]) end
        redis.call('ZREM', KEYS[5], ARGV[2])
        return seq
        """);

    public static async Task CommitAsync(IDatabase db, string fileId, string tenant, LinePart part, IEnumerable<HashEntry> fields)
    {
        var args = new List<RedisValue> { fileId, part.Prefix };
        foreach (var f in fields) { args.Add(f.Name); args.Add(f.Value); }
        args.AddRange([FileFields.Segments, part.Segments, FileFields.Parts, LinePart.FormatAll([part])]);
        RedisKey[] keys = [RedisKeys.File(fileId), RedisKeys.Sequence, RedisKeys.TenantFiles(tenant), RedisKeys.ExpiringFiles, RedisKeys.BlobsToDelete];
        await db.ScriptEvaluateAsync(Script.ExecutableScript, keys, [.. args]);
    }
}
