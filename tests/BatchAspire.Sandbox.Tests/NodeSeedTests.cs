using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Sandbox.Tests;

/// <summary>
/// The seed guide's Node.js steps (tests/sdk/seed-node.mjs) run unmodified with the official
/// <c>openai</c> npm package, 4.x and 7.x, only OPENAI_BASE_URL pointing at the Sandbox.
/// </summary>
public sealed class NodeSeedTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static readonly string[] Reviews =
    [
        "I love this product! It's amazing!",
        "Terrible experience, would not recommend.",
        "It's okay, nothing special.",
        "Best purchase I've ever made!",
        "Waste of money.",
    ];

    private static readonly string[] Expected = ["positive", "negative", "neutral", "positive", "negative"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("openai", "4.")]
    [InlineData("openai-v7", "7.")]
    public async Task SeedNodeStepsPrintASentimentForEveryReview(string package, string major)
    {
        var sdk = await NodeSdk.EnsureInstalledAsync(Ct);
        Assert.StartsWith(major, NodeSdk.InstalledVersion(package));
        var work = Directory.CreateTempSubdirectory("seed-node-");
        try
        {
            // The input file exactly as the guide's end-to-end example builds it.
            var lines = Reviews.Select((text, i) => JsonSerializer.Serialize(new
            {
                custom_id = $"request-{i}",
                method = "POST",
                url = "/v1/chat/completions",
                body = new
                {
                    model = "gpt-5-nano",
                    messages = new object[]
                    {
                        new { role = "system", content = "Classify sentiment as: positive, negative, or neutral" },
                        new { role = "user", content = text },
                    },
                    max_tokens = 10,
                },
            }) + "\n");
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "batch_requests.jsonl"), string.Concat(lines), Ct);

            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "seed-node.mjs"), [], work.FullName, sandbox.Host.BaseUrl, package, Ct);

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            var output = stdout.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains(output, l => l.StartsWith("File ID: file-", StringComparison.Ordinal));
            Assert.Contains(output, l => l.StartsWith("Batch ID: batch_", StringComparison.Ordinal));
            Assert.Contains("Batch completed!", output);
            for (var i = 0; i < Reviews.Length; i++) Assert.Contains($"request-{i}: {Expected[i]}", output);
            if (package != "openai") Assert.Contains($"'openai' resolves to '{package}'", stderr);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("openai-v7")]
    public async Task NodeSdkSendsANonRetryable409ExactlyOnce(string package)
    {
        var sdk = await NodeSdk.EnsureInstalledAsync(Ct);
        using var api = await OpenAIApi.CreateAsync(sandbox.Target, Ct);
        var batch = await api.SubmitAsync([], ct: Ct);   // an empty file: the batch fails validation
        Assert.Equal("failed", (await api.WaitForAsync(batch.Str("id"), Ct)).Str("status"));

        var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "cancel-once.mjs"), [batch.Str("id")],
            Path.GetTempPath(), sandbox.Host.BaseUrl, package, Ct, api.ApiKey);

        Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
        Assert.Equal("ConflictError 409", stdout.Trim());
        using var http = sandbox.Host.CreateClient();
        using var stats = JsonDocument.Parse(await http.GetStringAsync("sandbox/stats", Ct));
        Assert.Equal(1, stats.RootElement.GetProperty("batch_cancels").GetProperty(batch.Str("id")).GetInt32());
    }
}

/// <summary>Runs tests/sdk scripts with node; installs the locked packages first when a clean clone has none.</summary>
internal static class NodeSdk
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
                File.Exists(Path.Combine(Directory, "node_modules", "openai-v7", "package.json")))
            {
                return Directory;
            }
            var (exit, stdout, stderr) = await RunProcessAsync("npm", ["ci", "--no-audit", "--no-fund"], Directory,
                new Dictionary<string, string>(), TimeSpan.FromMinutes(3), ct);
            Assert.True(exit == 0, $"npm ci failed ({exit})\n{stdout}\n{stderr}");
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
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {timeout}\n{stdout}\n{stderr}");
        }
        process.WaitForExit();   // flushes the redirected streams
        return (process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
