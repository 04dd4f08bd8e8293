using Spectre.Console;

namespace BatchAspire.Cli;

/// <summary>
/// What a run of the tool talks to: <see cref="Out"/> gets results (ids, tables, JSON, file paths), so scripts can read
/// it; <see cref="Error"/> gets progress, notes and errors. Tests pass test consoles and their own environment.
/// </summary>
public sealed record CliHost(IAnsiConsole Out, IAnsiConsole Error, Func<string, string?> Environment)
{
    public static CliHost FromProcess() => new(
        AnsiConsole.Console,
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }),
        System.Environment.GetEnvironmentVariable);

    /// <summary>Writes one line as is: no markup, no wrapping at the console's width (JSON and ids must stay whole).</summary>
    public void WriteResult(string line) => Out.Profile.Out.Writer.WriteLine(line);
}
