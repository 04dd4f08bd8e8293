using BatchAspire.Core.Files;
using BatchAspire.Core.Hosting;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Files;

/// <summary>
/// Frees the space of expired files: an expired file is hidden from its tenant at once (404, left out of lists), and
/// <see cref="IntakeOptions.ExpiredFileRetention"/> later this deletes its keys. Redis runs with <c>noeviction</c>, so
/// without it every upload and every job's output would stay in memory for ever. Several intake replicas may sweep
/// at once: a delete is one script, and deleting a file twice changes nothing.
/// </summary>
internal sealed class ExpiredFileSweeper(IFileStore files, IOptions<IntakeOptions> options, TimeProvider time, ILogger<ExpiredFileSweeper> logger)
    : Sweeper(time, logger)
{
    private const int FilesPerPass = 200;

    protected override TimeSpan Interval => options.Value.ExpiredFileSweepInterval;

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct)
    {
        var deleted = await SweepAsync(ct);
        if (deleted > 0) IntakeLog.ExpiredFilesDeleted(Logger, deleted);
        return false;
    }

    /// <summary>Deletes every file past its expiry and the retention; returns how many.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        var expiredBefore = Time.GetUtcNow() - options.Value.ExpiredFileRetention;
        var total = 0;
        while (true)
        {
            var deleted = await files.DeleteExpiredAsync(expiredBefore, FilesPerPass, ct);
            total += deleted.Count;
            if (deleted.Count < FilesPerPass) return total;
        }
    }
}
