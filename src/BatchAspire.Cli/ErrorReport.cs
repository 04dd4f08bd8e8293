using Spectre.Console;
using Spectre.Console.Cli;

namespace BatchAspire.Cli;

/// <summary>Every failure ends here: one line on the error console, never a stack trace, and its exit code.</summary>
internal static class ErrorReport
{
    public static int Write(CliHost host, Exception exception, CancellationToken ct)
    {
        var (code, message) = exception switch
        {
            CliException cli => (cli.ExitCode, cli.Message),
            CommandAppException app => (ExitCodes.Usage, app.Message),
            OperationCanceledException when ct.IsCancellationRequested => (ExitCodes.Interrupted, "Interrupted."),
            _ => (ExitCodes.Unexpected, $"Unexpected {exception.GetType().Name}: {exception.Message}"),
        };
        host.Error.MarkupLineInterpolated($"[red]error:[/] {message}");
        return code;
    }
}
