using System.ComponentModel;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Input;
using BatchAspire.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli.Commands;

public sealed class SubmitSettings : ApiSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The JSONL file of requests.")]
    public string File { get; set; } = "";

    [CommandOption("--endpoint <PATH>")]
    [Description("The endpoint every request goes to.")]
    [DefaultValue("/v1/chat/completions")]
    public string Endpoint { get; set; } = "/v1/chat/completions";

    [CommandOption("--window <WINDOW>")]
    [Description("The completion window.")]
    [DefaultValue("24h")]
    public string Window { get; set; } = "24h";

    [CommandOption("--metadata <KEY=VALUE>")]
    [Description("A metadata pair for the batch; repeat for more.")]
    public string[] Metadata { get; set; } = [];

    [CommandOption("--wait")]
    [Description("Show the batch's progress until it ends; the exit code then says how it ended.")]
    public bool Wait { get; set; }

    [CommandOption("--poll-interval <DURATION>")]
    [Description("How often --wait asks for the batch (500ms, 5s, 1m).")]
    [DefaultValue("5s")]
    public string PollInterval { get; set; } = "5s";

    [CommandOption("--timeout <DURATION>")]
    [Description("How long --wait waits at most; the batch goes on after it.")]
    [DefaultValue("25h")]
    public string Timeout { get; set; } = "25h";

    public TimeSpan PollIntervalValue => Duration.TryParse(PollInterval, out var value) ? value : default;

    public TimeSpan TimeoutValue => Duration.TryParse(Timeout, out var value) ? value : default;

    public IReadOnlyDictionary<string, string> MetadataPairs =>
        Metadata.Select(pair => pair.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);

    public override ValidationResult Validate()
    {
        if (!Duration.TryParse(PollInterval, out var interval) || interval < TimeSpan.FromMilliseconds(100))
        {
            return ValidationResult.Error($"--poll-interval '{PollInterval}' is not a duration of at least 100ms.");
        }
        if (!Duration.TryParse(Timeout, out var timeout) || timeout <= TimeSpan.Zero)
        {
            return ValidationResult.Error($"--timeout '{Timeout}' is not a positive duration.");
        }
        if (Metadata.FirstOrDefault(pair => pair.IndexOf('=') <= 0) is { } bad)
        {
            return ValidationResult.Error($"--metadata '{bad}' is not KEY=VALUE.");
        }
        if (Metadata.Select(pair => pair.Split('=', 2)[0]).GroupBy(k => k).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return ValidationResult.Error($"--metadata names '{twice.Key}' twice.");
        }
        return base.Validate();
    }
}

/// <summary>Checks the file locally, uploads it (purpose batch), creates the batch and prints its id; with --wait, watches it end.</summary>
public sealed class SubmitCommand(CliHost host) : AsyncCommand<SubmitSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, SubmitSettings settings, CancellationToken ct)
    {
        var api = BatchApi.Connect(settings, host);
        var requests = await JsonlCheck.CheckAsync(settings.File, ct);
        var fileId = await api.UploadAsync(settings.File, ct);
        host.Error.MarkupLineInterpolated($"Uploaded {settings.File} ({requests:N0} requests) as [bold]{fileId}[/].");
        var batch = (await api.CreateAsync(fileId, settings.Endpoint, settings.Window, settings.MetadataPairs, ct)).View;
        host.WriteResult(batch.Id);

        if (settings.Wait && !batch.IsTerminal)
        {
            try
            {
                batch = await new BatchWatch(api, host, settings.PollIntervalValue, settings.TimeoutValue).WaitAsync(batch, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                host.Error.MarkupLineInterpolated($"Stopped waiting; the batch goes on (batchaspire status {batch.Id}).");
                return ExitCodes.Interrupted;
            }
            catch (CliException e) when (e.ExitCode is ExitCodes.ApiError or ExitCodes.Unreachable)
            {
                // A poll failed after its retries: the batch itself is not affected, and the user should know that.
                throw new CliException(e.ExitCode, $"{e.Message} Stopped waiting; the batch goes on (batchaspire status {batch.Id}).");
            }
            Report.Ending(host, batch);
        }
        else if (batch.Status == "failed")
        {
            Report.Ending(host, batch);
        }
        return batch.Status is "failed" or "expired" or "cancelled" ? ExitCodes.BatchNotCompleted : ExitCodes.Ok;
    }
}
