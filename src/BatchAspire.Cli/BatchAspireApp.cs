using BatchAspire.Cli.Commands;
using Spectre.Console.Cli;

namespace BatchAspire.Cli;

/// <summary>The tool's entry point: the command table, then one place that turns every failure into a message and an exit code.</summary>
public static class BatchAspireApp
{
    public static Task<int> RunAsync(string[] args, CliHost host, CancellationToken ct)
    {
        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("batchaspire");
            config.ConfigureConsole(host.Out);
            config.Settings.Registrar.RegisterInstance(host);
            config.AddCommand<SubmitCommand>("submit")
                .WithDescription("Check a JSONL file, upload it, create a batch and print its id; --wait shows its progress to the end.")
                .WithExample("submit", "requests.jsonl", "--wait");
            config.AddCommand<StatusCommand>("status").WithDescription("Show one batch.").WithExample("status", "batch_abc123", "--json");
            config.AddCommand<ListCommand>("list").WithDescription("List batches, newest first.").WithExample("list", "--limit", "5");
            config.AddCommand<CancelCommand>("cancel").WithDescription("Cancel a batch.").WithExample("cancel", "batch_abc123");
            config.AddCommand<DownloadCommand>("download")
                .WithDescription("Save a batch's output and error files as <batch>_output.jsonl and <batch>_errors.jsonl.")
                .WithExample("download", "batch_abc123", "-o", "results");
            config.SetExceptionHandler((exception, _) => ErrorReport.Write(host, exception, ct));
        });
        return app.RunAsync(args, ct);
    }
}
