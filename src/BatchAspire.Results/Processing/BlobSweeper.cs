using BatchAspire.Core.Files;
using BatchAspire.Core.Hosting;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Runs <see cref="BlobDeletions.SweepAsync"/> every <see cref="ResultsOptions.SweepInterval"/>: blobs of deleted files and
/// unused runs whose first delete failed, and blobs of writers that died before recording them.
/// </summary>
internal sealed class BlobSweeper(BlobDeletions deletions, IOptions<ResultsOptions> options, TimeProvider time,
    ILogger<BlobSweeper> logger) : Sweeper(time, logger)
{
    private const int PrefixesPerSweep = 100;

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct) =>
        await deletions.SweepAsync(PrefixesPerSweep, ct) == PrefixesPerSweep;
}
