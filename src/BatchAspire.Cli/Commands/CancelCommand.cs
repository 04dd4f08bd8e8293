using BatchAspire.Cli.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

/// <summary>Asks the server to cancel a batch and prints the status it answered (usually <c>cancelling</c>).</summary>
public sealed class CancelCommand(CliHost host) : AsyncCommand<BatchIdSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, BatchIdSettings settings, CancellationToken ct)
    {
        var batch = (await BatchApi.Connect(settings, host).CancelAsync(settings.BatchId, ct)).View;
        host.WriteResult($"{batch.Id} {batch.Status}");
        host.Error.MarkupLineInterpolated($"Cancel sent; the batch ends cancelled once the server has stopped it (batchaspire status {batch.Id}).");
        return ExitCodes.Ok;
    }
}
