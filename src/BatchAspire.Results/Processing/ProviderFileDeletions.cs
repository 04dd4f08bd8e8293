using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
using BatchAspire.Providers;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Deletes chunks' files at the provider once their results are stored: BatchAspire keeps what it needs in Redis, and
/// a provider counts stored files against the account. The script that completes a chunk lists its files in
/// <c>ba:provider:files:delete</c>; they are deleted right after and, where that fails (or the process died first),
/// by <see cref="ProviderFileSweeper"/>, every <see cref="ResultsOptions.ProviderFileRetryDelay"/>, until the provider
/// confirms. A file the provider no longer has counts as deleted, so two replicas deleting one file change nothing.
/// </summary>
public sealed class ProviderFileDeletions(
    IConnectionMultiplexer redis,
    ProviderBatchCommands provider,
    IOptions<ResultsOptions> options,
    TimeProvider time,
    ILogger<ProviderFileDeletions> logger)
{
    private const int FilesPerClaim = 100;

    // Takes the files that are due and moves each one's next attempt on by the retry delay: one replica tries a file
    // at a time, and a file whose delete fails waits before the next try.
    private static readonly LuaScript ClaimScript = LuaScript.Prepare("""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
        for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
        return due
        """);

    /// <summary>Deletes these files now; each one deleted leaves the list, the others stay for a later sweep.</summary>
    public async Task<int> DeleteAsync(IEnumerable<string> fileIds, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var fileId in fileIds)
        {
            try
            {
                await provider.DeleteFileAsync(fileId, ct);
                await redis.GetDatabase().SortedSetRemoveAsync(RedisKeys.ProviderFilesToDelete, fileId);
                deleted++;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not RedisException)
            {
                logger.ProviderFileNotDeleted(e, fileId);
            }
        }
        return deleted;
    }

    /// <summary>Deletes the listed files that are due (up to a claim's worth); returns how many the provider confirmed.</summary>
    public async Task<int> DeleteDueAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var claimed = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(ClaimScript.ExecutableScript, [RedisKeys.ProviderFilesToDelete],
            [now.ToUnixTimeMilliseconds(), (now + options.Value.ProviderFileRetryDelay).ToUnixTimeMilliseconds(), FilesPerClaim]))!;
        return claimed.Length == 0 ? 0 : await DeleteAsync(claimed.Select(id => (string)id!), ct);
    }
}
