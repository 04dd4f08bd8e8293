using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Testing;

/// <summary>Runs tests/sdk scripts with node; installs the locked packages first when a clean clone has none.</summary>
public static class NodeSdk
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    public static string Directory { get; } = Path.Combine(
        typeof(NodeSdk).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!, "tests", "sdk");

    public static string InstalledVersion(string package)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, "node_modules", package, "package.json")));
        return json.RootElement.GetProperty("version").GetString()!;
    }

    public static async Task<string> EnsureInstalledAsync(CancellationToken ct)
    {
        await InstallGate.WaitAsync(ct);
        try
        {
            if (File.Exists(Path.Combine(Directory, "node_modules", "openai", "package.json")) &&
                File.Exists(Path.Combine(Directory, "node_modules", "openai-v7", "package.json")) &&
                File.Exists(Path.Combine(Directory, "node_modules", "@anthropic-ai", "sdk", "package.json")))
            {
                return Directory;
            }
            var (exit, stdout, stderr) = await RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund"], Directory,
                new Dictionary<string, string>(), TimeSpan.FromMinutes(3), ct);
            if (exit != 0)
            {
                throw new InvalidOperationException($"npm ci failed ({exit})\n{stdout}\n{stderr}");
            }
            return Directory;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    public static Task<(int Exit, string Stdout, string Stderr)> RunAsync(string script, string[] args, string workingDirectory,
        Uri baseUrl, string package, CancellationToken ct, string? apiKey = null) =>
        RunProcessAsync("node", ["--import", Path.Combine(Directory, "fast-timers.mjs"), script, .. args], workingDirectory,
            new Dictionary<string, string>
            {
                ["OPENAI_BASE_URL"] = baseUrl.AbsoluteUri,
                ["OPENAI_API_KEY"] = apiKey ?? "sk-seed-" + Guid.NewGuid().ToString("N"),
                ["SEED_OPENAI_PACKAGE"] = package,
            },
            TimeSpan.FromSeconds(90), ct);

    /// <summary>Runs a script with the Anthropic SDK's environment: its base URL is the server's root (the SDK adds <c>/v1</c>).</summary>
    public static Task<(int Exit, string Stdout, string Stderr)> RunAnthropicAsync(string script, Uri rootUrl, CancellationToken ct, string? apiKey = null) =>
        RunProcessAsync("node", [script], Directory,
            new Dictionary<string, string>
            {
                ["ANTHROPIC_BASE_URL"] = rootUrl.AbsoluteUri.TrimEnd('/'),
                ["ANTHROPIC_API_KEY"] = apiKey ?? "sk-ant-" + Guid.NewGuid().ToString("N"),
            },
            TimeSpan.FromSeconds(90), ct);

    private static async Task<(int, string, string)> RunProcessAsync(string file, string[] args, string workingDirectory,
        Dictionary<string, string> environment, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}\n{stdout}\n{stderr}");
        }
        process.WaitForExit();   // flushes the redirected streams
        return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
