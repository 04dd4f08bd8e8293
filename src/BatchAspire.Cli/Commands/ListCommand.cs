using System.ComponentModel;
using System.Text.Json;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

public sealed class ListSettings : ApiSettings
{
    [CommandOption("--limit <N>")]
    [Description("How many batches (1-100; the server's default when absent).")]
    public int? Limit { get; set; }

    [CommandOption("--after <BATCH_ID>")]
    [Description("Start after this batch (the last id of the previous page).")]
    public string? After { get; set; }

    [CommandOption("--json")]
    [Description("Print the page as the server sent it.")]
    public bool Json { get; set; }

    public override ValidationResult Validate() =>
        Limit is < 1 or > 100 ? ValidationResult.Error("--limit must be between 1 and 100.") : base.Validate();
}

/// <summary>One page of batches, newest first: a table, or with --json the server's list object unchanged.</summary>
public sealed class ListCommand(CliHost host) : AsyncCommand<ListSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ListSettings settings, CancellationToken ct)
    {
        var page = await BatchApi.Connect(settings, host).ListAsync(settings.After, settings.Limit, ct);
        if (settings.Json)
        {
            host.WriteResult(page.ToString());
            return ExitCodes.Ok;
        }
        using var json = JsonDocument.Parse(page);
        var batches = json.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array
            ? data.EnumerateArray().Select(BatchView.Read).ToList()
            : [];
        var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "STATUS", "REQUESTS", "CREATED", "ENDPOINT");
        foreach (var batch in batches)
        {
            table.AddRow(new Text(batch.Id), new Text(batch.Status), new Text(BatchText.Requests(batch)), new Text(BatchText.Created(batch)), new Text(batch.Endpoint ?? ""));
        }
        host.Out.Write(table);
        if (json.RootElement.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True && batches.Count > 0)
        {
            host.Error.MarkupLineInterpolated($"More: batchaspire list --after {batches[^1].Id}");
        }
        return ExitCodes.Ok;
    }
}
