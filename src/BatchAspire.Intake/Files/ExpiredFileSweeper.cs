using BatchAspire.Core.Files;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Files;

/// <summary>
/// Frees the space of expired files: an expired file is hidden from its tenant at once (404, left out of lists), and
/// <see cref="IntakeOptions.ExpiredFileRetention"/> later this deletes its keys. Redis runs with <c>noeviction</c>, so
/// without it every upload and every job's output would stay in memory for ever. Several intake replicas may sweep
/// at once: a delete is one script, and deleting a file twice changes nothing.
/// </summary>
internal sealed class ExpiredFileSweeper(IFileStore files, IOptions<IntakeOptions> options, TimeProvider time, ILogger<ExpiredFileSweeper> logger)
    : BackgroundService
{
    private const int FilesPerPass = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ExpiredFileSweepInterval, time);
        do
        {
            try
            {
                var deleted = await SweepAsync(stoppingToken);
                if (deleted > 0) IntakeLog.ExpiredFilesDeleted(logger, deleted);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                IntakeLog.ExpiredFileSweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes every file past its expiry and the retention; returns how many.</summary>
    internal async Task<int> SweepAsync(CancellationToken ct)
    {
        var expiredBefore = time.GetUtcNow() - options.Value.ExpiredFileRetention;
        var total = 0;
        while (true)
        {
            var deleted = await files.DeleteExpiredAsync(expiredBefore, FilesPerPass, ct);
            total += deleted.Count;
            if (deleted.Count < FilesPerPass) return total;
        }
    }
}
