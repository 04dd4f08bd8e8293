using BatchAspire.Cli.Api;
using Spectre.Console;

namespace BatchAspire.Cli.Output;

/// <summary>What the tool says about a batch in prose: how it ended, and where its results are.</summary>
internal static class Report
{
    public static void Ending(CliHost host, BatchView batch)
    {
        var colour = batch.Status == "completed" ? "green" : batch.IsTerminal ? "red" : "yellow";
        host.Error.MarkupLineInterpolated($"Batch {batch.Id} [{colour}]{batch.Status}[/]: {BatchText.Requests(batch)}.");
        foreach (var problem in batch.Errors) host.Error.MarkupLineInterpolated($"  [red]{BatchText.Problem(problem)}[/]");
        if (BatchText.Cost(batch) is { } cost) host.Error.MarkupLineInterpolated($"Cost: {cost}.");
        if (batch.OutputFileId is not null || batch.ErrorFileId is not null)
        {
            host.Error.MarkupLineInterpolated($"Results: batchaspire download {batch.Id}");
        }
    }
}
