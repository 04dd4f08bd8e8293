using System.ComponentModel;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

public sealed class StatusSettings : BatchIdSettings
{
    [CommandOption("--json")]
    [Description("Print the batch object as the server sent it.")]
    public bool Json { get; set; }
}

/// <summary>Shows one batch: a table of its fields, or with --json the server's batch object unchanged.</summary>
public sealed class StatusCommand(CliHost host) : AsyncCommand<StatusSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, StatusSettings settings, CancellationToken ct)
    {
        var batch = await BatchApi.Connect(settings, host).GetAsync(settings.BatchId, ct);
        if (settings.Json)
        {
            host.WriteResult(batch.Json);
            return ExitCodes.Ok;
        }
        var view = batch.View;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value)) grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
        }
        Row("id", view.Id);
        Row("status", view.Status);
        Row("endpoint", view.Endpoint);
        Row("model", view.Model);
        Row("requests", BatchText.Requests(view));
        Row("created", BatchText.Created(view));
        Row("input file", view.InputFileId);
        Row("output file", view.OutputFileId);
        Row("error file", view.ErrorFileId);
        Row("chunks", BatchText.Chunks(view));
        Row("cost", BatchText.Cost(view));
        foreach (var share in view.Providers ?? []) Row($"  at {share.Provider}", BatchText.Share(share));
        Row("metadata", string.Join(", ", view.Metadata.Select(kv => $"{kv.Key}={kv.Value}")));
        foreach (var problem in view.Errors) Row("error", BatchText.Problem(problem));
        host.Out.Write(grid);
        return ExitCodes.Ok;
    }
}
