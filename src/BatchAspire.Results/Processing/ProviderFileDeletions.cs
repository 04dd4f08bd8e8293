using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
using BatchAspire.Providers;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Deletes chunks' files at the provider once their results are stored: BatchAspire keeps what it needs (every input line and final result in its blob store), and
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

    // A claim moves each file's next attempt on by the retry delay (the lease): one replica tries a file at a time, and
    // a file whose delete fails waits before the next try.
    private readonly DueSet _due = new(redis, RedisKeys.ProviderFilesToDelete);

    /// <summary>Deletes these files now; each one deleted leaves the list, the others stay for a later sweep.</summary>
    public async Task<int> DeleteAsync(IEnumerable<string> fileIds, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var fileId in fileIds)
        {
            try
            {
                await provider.DeleteFileAsync(fileId, ct);
                await _due.RemoveAsync(fileId);
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
        var claim = await _due.ClaimAsync(FilesPerClaim, options.Value.ProviderFileRetryDelay, now: time.GetUtcNow());
        return claim.Members.Count == 0 ? 0 : await DeleteAsync(claim.Members.Select(m => m.Id), ct);
    }
}
