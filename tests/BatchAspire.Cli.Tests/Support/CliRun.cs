using BatchAspire.Cli;
using Spectre.Console.Testing;

namespace BatchAspire.Cli.Tests.Support;

/// <summary>What one run of the tool printed and how it ended.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public IReadOnlyList<string> OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- out ---\n{Out}\n--- error ---\n{Error}";
}

/// <summary>
/// Runs the tool's entry point in-process, as <c>batchaspire ARGS</c>, with test consoles (not interactive, like a
/// pipe or CI) and an environment of its own instead of the process's.
/// </summary>
public static class CliRun
{
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string> environment, CancellationToken ct, params string[] args) =>
        RunAsync(new TestConsole().Width(400), environment, ct, args);

    /// <summary>Runs the tool with <paramref name="error"/> as its error console (where progress goes), e.g. an interactive one.</summary>
    public static async Task<CliResult> RunAsync(TestConsole error, IReadOnlyDictionary<string, string> environment, CancellationToken ct, params string[] args)
    {
        using var output = new TestConsole().Width(400);
        var host = new CliHost(output, error, name => environment.GetValueOrDefault(name));
        var code = await BatchAspireApp.RunAsync(args, host, ct);
        return new CliResult(code, output.Output, error.Output);
    }

    public static Dictionary<string, string> Environment(Uri baseUrl, string apiKey) => new()
    {
        ["OPENAI_BASE_URL"] = baseUrl.ToString(),
        ["OPENAI_API_KEY"] = apiKey,
    };
}
