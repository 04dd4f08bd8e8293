using System.ComponentModel;
using System.Globalization;
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
        // Plain aligned columns written whole, not a Spectre table: ids stay on one line at any width, and scripts can cut them.
        string[] header = ["ID", "STATUS", "DONE", "FAILED", "TOTAL", "CREATED", "ENDPOINT"];
        var rows = batches.Select(b => new[]
        {
            b.Id, b.Status, b.Completed.ToString(CultureInfo.InvariantCulture), b.Failed.ToString(CultureInfo.InvariantCulture),
            b.Total.ToString(CultureInfo.InvariantCulture), BatchText.Created(b), b.Endpoint ?? "",
        }).Prepend(header).ToList();
        var widths = header.Select((_, i) => rows.Max(row => row[i].Length)).ToArray();
        foreach (var row in rows)
        {
            host.WriteResult(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
        }
        if (json.RootElement.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True && batches.Count > 0)
        {
            host.Error.MarkupLineInterpolated($"More: batchaspire list --after {batches[^1].Id}");
        }
        return ExitCodes.Ok;
    }
}
