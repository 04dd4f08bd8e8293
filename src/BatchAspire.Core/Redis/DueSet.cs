using StackExchange.Redis;

namespace BatchAspire.Core.Redis;

/// <summary>
/// A sorted set of ids scored by when each is due (unix ms), claimed with a lease (<c>Redis/Lua/due/claim.lua</c>):
/// a claim hides what it took until the lease lapses, so among any number of replicas one takes each due id, and an
/// id whose holder died comes due again by itself. Every "claim what is due" in BatchAspire goes through here.
/// </summary>
public sealed class DueSet(IConnectionMultiplexer redis, RedisKey key)
{
    private static readonly RedisScript ClaimScript = RedisScript.Load("due/claim");

    public RedisKey Key => key;

    /// <summary>
    /// Takes up to <paramref name="max"/> ids due at or before <paramref name="dueBefore"/> (default: now) less
    /// <paramref name="quietFor"/> (default: nothing) and moves each to now + <paramref name="lease"/>. Now is Redis
    /// server time unless <paramref name="now"/> is given (a caller that keeps its own clock, such as one measuring an
    /// age against <see cref="TimeProvider"/>). <paramref name="quietFor"/> serves a set scored by when each id last
    /// showed life, on Redis' clock like its writers: it claims the ids quiet that long.
    /// </summary>
    public async Task<DueClaim> ClaimAsync(int max, TimeSpan lease, DateTimeOffset? now = null, DateTimeOffset? dueBefore = null,
        TimeSpan? quietFor = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var reply = (RedisResult[])(await ClaimScript.EvaluateAsync(redis.GetDatabase(), [key],
            max, (long)lease.TotalMilliseconds,
            now is { } n ? n.ToUnixTimeMilliseconds() : RedisValue.EmptyString,
            dueBefore is { } d ? d.ToUnixTimeMilliseconds() : RedisValue.EmptyString,
            quietFor is { } q ? (long)q.TotalMilliseconds : RedisValue.EmptyString))!;
        var members = new DueMember[(reply.Length - 2) / 2];
        for (var i = 0; i < members.Length; i++)
        {
            members[i] = new DueMember((string)reply[2 + i * 2]!, (long)(double)reply[3 + i * 2]);
        }
        return new DueClaim(members, (long)reply[0], reply[1].IsNull ? null : (long)(double)reply[1]);
    }

    /// <summary>Takes an id out of the set (its work is done, or it no longer exists).</summary>
    public Task<bool> RemoveAsync(string id) => redis.GetDatabase().SortedSetRemoveAsync(key, id);
}

/// <summary>One claimed id and the due time it had (a lapsed lease counts as due at its expiry).</summary>
public readonly record struct DueMember(string Id, long DueAtMs);

/// <summary>What one claim took, the Redis time it ran at, and the earliest due time left (null: the set is empty).</summary>
public sealed record DueClaim(IReadOnlyList<DueMember> Members, long NowMs, long? NextDueMs);
