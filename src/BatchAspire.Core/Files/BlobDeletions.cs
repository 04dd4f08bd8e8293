using BatchAspire.Core.Redis;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// The list of blob prefixes to delete (<c>ba:blobs:delete</c>), which stands in for the TTL that payload had in
/// Redis. A writer lists its prefix, due after <see cref="PendingBound"/>, before it writes a byte
/// (<see cref="ExpectAsync"/>); the script that records the part (a file's commit, a chunk's results) takes it out in
/// the same step. A delete of a file, or a job's commit that leaves runs unused, lists their prefixes due now in the
/// script that forgets them, then deletes the blobs and takes them out (<see cref="DeleteAsync"/>). Whatever a crash
/// left listed, the sweep deletes (<see cref="SweepAsync"/>). A crash can therefore never leak payload, and nothing
/// has to list the blob store to find it.
/// </summary>
public sealed class BlobDeletions(IConnectionMultiplexer redis, IBlobStore blobs, TimeProvider time)
{
    /// <summary>A writer that has not recorded its blobs after this long is taken for dead.</summary>
    public static readonly TimeSpan PendingBound = TimeSpan.FromHours(6);

    /// <summary>A sweep that claimed a prefix and failed to delete it tries again after this long.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMinutes(1);

    // A claim moves a prefix past the retry delay, so sweepers in several replicas do not share one.
    private readonly DueSet _due = new(redis, RedisKeys.BlobsToDelete);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Lists <paramref name="prefix"/> as a writer's, deleted after <see cref="PendingBound"/> unless recorded.</summary>
    public Task ExpectAsync(string prefix) =>
        Db.SortedSetAddAsync(RedisKeys.BlobsToDelete, prefix, (time.GetUtcNow() + PendingBound).ToUnixTimeMilliseconds());

    /// <summary>Deletes the blobs of <paramref name="prefixes"/> (listed already) and takes them off the list.</summary>
    public async Task DeleteAsync(IEnumerable<string> prefixes, CancellationToken ct = default)
    {
        foreach (var prefix in prefixes)
        {
            foreach (var blob in LinePart.BlobsOf(prefix)) await blobs.DeleteAsync(blob, ct);
            await Db.SortedSetRemoveAsync(RedisKeys.BlobsToDelete, prefix);
        }
    }

    /// <summary>
    /// <see cref="DeleteAsync"/> for a writer cleaning up after a failure: a failure here is left to the sweep
    /// (the prefix stays listed), so the first failure is the one the caller sees.
    /// </summary>
    public async Task TryDeleteAsync(string prefix)
    {
        try
        {
            await DeleteAsync([prefix], CancellationToken.None);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or BlobStoreUnavailableException or IOException)
        {
        }
    }

    /// <summary>
    /// Deletes the blobs of up to <paramref name="max"/> listed prefixes that are due, and what writers that never
    /// committed left in the store; returns how many prefixes were deleted.
    /// </summary>
    public async Task<int> SweepAsync(int max, CancellationToken ct = default)
    {
        var due = await _due.ClaimAsync(max, RetryDelay, now: time.GetUtcNow());
        await DeleteAsync(due.Members.Select(m => m.Id), ct);
        await blobs.DeleteAbandonedAsync(PendingBound, ct);
        return due.Members.Count;
    }
}
