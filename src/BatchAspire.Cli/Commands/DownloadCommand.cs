using System.ComponentModel;
using BatchAspire.Cli.Api;
using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

public sealed class DownloadSettings : BatchIdSettings
{
    [CommandOption("-o|--output <DIR>")]
    [Description("The folder to save into (made if missing).")]
    [DefaultValue(".")]
    public string Output { get; set; } = ".";
}

/// <summary>Streams a batch's output and error files to disk as <c>&lt;batch&gt;_output.jsonl</c> and <c>&lt;batch&gt;_errors.jsonl</c>.</summary>
public sealed class DownloadCommand(CliHost host) : AsyncCommand<DownloadSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, DownloadSettings settings, CancellationToken ct)
    {
        var api = BatchApi.Connect(settings, host);
        var batch = (await api.GetAsync(settings.BatchId, ct)).View;
        var files = new[] { (Id: batch.OutputFileId, Name: $"{batch.Id}_output.jsonl"), (Id: batch.ErrorFileId, Name: $"{batch.Id}_errors.jsonl") }
            .Where(f => !string.IsNullOrEmpty(f.Id))
            .ToList();
        if (files.Count == 0)
        {
            throw new CliException(ExitCodes.NothingToDownload, batch.IsTerminal
                ? $"Batch {batch.Id} ended {batch.Status} with no output or error file."
                : $"Batch {batch.Id} is {batch.Status}: it has no output or error file yet.");
        }
        try
        {
            Directory.CreateDirectory(settings.Output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"Cannot make the folder {settings.Output}: {e.Message}");
        }
        foreach (var (id, name) in files)
        {
            var path = Path.GetFullPath(Path.Combine(settings.Output, name));
            var bytes = await api.DownloadAsync(id!, path, ct);
            host.WriteResult(path);
            host.Error.MarkupLineInterpolated($"Saved {id} ({bytes:N0} bytes) as {path}.");
        }
        return ExitCodes.Ok;
    }
}
