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

/// <summary>Runs <see cref="ProviderFileDeletions.DeleteDueAsync"/> every <see cref="ResultsOptions.SweepInterval"/>.</summary>
internal sealed class ProviderFileSweeper(ProviderFileDeletions deletions, IOptions<ResultsOptions> options, TimeProvider time,
    ILogger<ProviderFileSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await deletions.DeleteDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Redis unreachable for a moment: the next tick tries again (an exception here would stop the host).
                logger.ProviderFileSweepFailed(e);
            }
        }
    }
}

/// <summary>
/// Runs <see cref="BlobDeletions.SweepAsync"/> every <see cref="ResultsOptions.SweepInterval"/>: blobs of deleted files and
/// unused runs whose first delete failed, and blobs of writers that died before recording them.
/// </summary>
internal sealed class BlobSweeper(BlobDeletions deletions, IOptions<ResultsOptions> options, TimeProvider time,
    ILogger<BlobSweeper> logger) : BackgroundService
{
    private const int PrefixesPerSweep = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SweepInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                while (await deletions.SweepAsync(PrefixesPerSweep, stoppingToken) == PrefixesPerSweep) { }
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Redis or the blob store unreachable for a moment: the next tick tries again.
                logger.BlobSweepFailed(e);
            }
        }
    }
}
