using BatchAspire.Core.Hosting;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Processing;

/// <summary>Runs <see cref="ProviderFileDeletions.DeleteDueAsync"/> every <see cref="ResultsOptions.SweepInterval"/>.</summary>
internal sealed class ProviderFileSweeper(ProviderFileDeletions deletions, IOptions<ResultsOptions> options, TimeProvider time,
    ILogger<ProviderFileSweeper> logger) : Sweeper(time, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    // A claim moves every file it takes to its next try, so what is left due waits for the next round either way.
    protected override async Task<bool> SweepRoundAsync(CancellationToken ct)
    {
        await deletions.DeleteDueAsync(ct);
        return false;
    }
}
