using BatchAspire.Cli.Tests.Support;
using Spectre.Console.Testing;

namespace BatchAspire.Cli.Tests;

/// <summary><c>batchaspire submit</c> against the Sandbox, an OpenAI-compatible server.</summary>
public sealed class SubmitTests(SandboxServer sandbox) : IClassFixture<SandboxServer>, IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Requests _requests = new();
    private readonly string _apiKey = SandboxServer.NewApiKey();

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync(CliRun.Environment(sandbox.BaseUrl, _apiKey), Ct, args);

    private ServerView Server => new(sandbox.BaseUrl, _apiKey);

    [Fact]
    public async Task SubmitUploadsTheFileCreatesTheBatchWithItsMetadataAndPrintsOnlyItsId()
    {
        var file = _requests.Write(5, "plain");

        var result = await RunAsync("submit", file, "--metadata", "team=search", "--metadata", "run=7");

        Assert.Equal(0, result.ExitCode);
        var batchId = Assert.Single(result.OutLines);
        var batch = await Server.BatchAsync(batchId, Ct);
        Assert.Equal("/v1/chat/completions", batch.GetProperty("endpoint").GetString());
        Assert.Equal("24h", batch.GetProperty("completion_window").GetString());
        Assert.Equal("search", batch.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal("7", batch.GetProperty("metadata").GetProperty("run").GetString());
        var uploaded = await Server.FileBytesAsync(batch.GetProperty("input_file_id").GetString()!, Ct);
        Assert.Equal(await File.ReadAllBytesAsync(file, Ct), uploaded);
        Assert.Contains("5 requests", result.Error);
    }

    [Fact]
    public async Task SubmitWithWaitPrintsPlainProgressLinesAndExitsZeroWhenTheBatchCompletes()
    {
        var file = _requests.Write(8, "waited");

        var result = await RunAsync("submit", file, "--wait", "--poll-interval", "100ms", "--metadata", "sandbox_line_latency_ms=60");

        Assert.True(result.ExitCode == 0, result.ToString());
        var batchId = Assert.Single(result.OutLines);
        Assert.Equal("completed", (await Server.BatchAsync(batchId, Ct)).GetProperty("status").GetString());
        var progress = result.Error.Split('\n').Where(l => l.Contains("elapsed", StringComparison.Ordinal)).ToList();
        Assert.True(progress.Count >= 2, result.ToString());
        Assert.StartsWith("completed  8/8 (100%), done 8, failed 0  elapsed ", progress[^1]);
        Assert.Contains(progress, line => line.StartsWith("in_progress  ", StringComparison.Ordinal) && line.Contains("left ", StringComparison.Ordinal));
        Assert.Contains($"Batch {batchId} completed", result.Error);
        Assert.Contains($"batchaspire download {batchId}", result.Error);
    }

    [Fact]
    public async Task InATerminalTheWaitShowsALiveProgressBarThatEndsFull()
    {
        var file = _requests.Write(6, "live");
        using var terminal = new TestConsole().Width(200).Interactive().SupportsAnsi(true);

        var result = await CliRun.RunAsync(terminal, CliRun.Environment(sandbox.BaseUrl, _apiKey), Ct,
            "submit", file, "--wait", "--poll-interval", "100ms", "--metadata", "sandbox_line_latency_ms=60");

        Assert.True(result.ExitCode == 0, result.ToString());
        var batchId = Assert.Single(result.OutLines);
        // Each frame of the live display is one bar line; the last one is the finished bar.
        var frames = result.Error.Split('\n').Where(l => l.Contains('━')).Select(l => l.Trim()).ToList();
        Assert.True(frames.Count >= 2, result.Error);
        Assert.Matches(@"^completed  6/6 \(100%\), done 6, failed 0  elapsed \d+:\d\d ━+ 100%$", frames[^1]);
        Assert.Contains($"Batch {batchId} completed", result.Error);
    }

    [Fact]
    public async Task SubmitWithWaitExitsOneWhenTheBatchExpires()
    {
        var file = _requests.Write(10, "expiring");

        var result = await RunAsync("submit", file, "--wait", "--poll-interval", "100ms",
            "--metadata", "sandbox_expire_after_seconds=0.5", "--metadata", "sandbox_line_latency_ms=300");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("expired", (await Server.BatchAsync(Assert.Single(result.OutLines), Ct)).GetProperty("status").GetString());
        Assert.Contains(" expired: ", result.Error);
    }

    [Fact]
    public async Task SubmitWithWaitExitsOneAndPrintsTheServersLineErrorsWhenTheBatchFailsValidation()
    {
        // Valid JSONL, so the local check passes; the server rejects line 2's url for this endpoint.
        var file = _requests.WriteText("mismatch.jsonl", Requests.Line("a") + "\n" + Requests.Line("b", "/v1/embeddings") + "\n");

        var result = await RunAsync("submit", file, "--wait", "--poll-interval", "100ms");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("failed", (await Server.BatchAsync(Assert.Single(result.OutLines), Ct)).GetProperty("status").GetString());
        Assert.Contains("line 2: url_mismatch: ", result.Error);
    }

    [Fact]
    public async Task CtrlCStopsWaitingWithExitCode130AndLeavesTheBatchRunning()
    {
        var file = _requests.Write(20, "interrupted");
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        ctrlC.CancelAfter(TimeSpan.FromSeconds(1.5));

        var result = await CliRun.RunAsync(CliRun.Environment(sandbox.BaseUrl, _apiKey), ctrlC.Token,
            "submit", file, "--wait", "--poll-interval", "100ms", "--metadata", "sandbox_line_latency_ms=500");

        Assert.True(result.ExitCode == 130, result.ToString());
        var batchId = Assert.Single(result.OutLines);
        Assert.Contains($"Stopped waiting; the batch goes on (batchaspire status {batchId})", result.Error);
        var batch = await Server.BatchAsync(batchId, Ct);
        Assert.Contains(batch.GetProperty("status").GetString(), new[] { "validating", "in_progress" });
        Assert.Equal(JsonValueKindNull, batch.GetProperty("cancelling_at").ValueKind);
    }

    [Fact]
    public async Task WaitingLongerThanTheTimeoutExitsSevenAndLeavesTheBatchRunning()
    {
        var file = _requests.Write(20, "slow");

        var result = await RunAsync("submit", file, "--wait", "--poll-interval", "100ms", "--timeout", "1s", "--metadata", "sandbox_line_latency_ms=500");

        Assert.True(result.ExitCode == 7, result.ToString());
        var batchId = Assert.Single(result.OutLines);
        Assert.Contains("Stopped waiting after 0:01; the batch goes on", result.Error);
        Assert.Contains((await Server.BatchAsync(batchId, Ct)).GetProperty("status").GetString(), new[] { "validating", "in_progress" });
    }

    [Fact]
    public async Task APollThatFailsAfterItsRetriesStopsTheWaitWithTheServersErrorAndSaysTheBatchGoesOn()
    {
        var file = _requests.Write(20, "unlucky");
        await sandbox.SetFaultsAsync(new { api_fail_next_500 = 1, api_fail_method = "GET", api_fail_path_prefix = "/v1/batches/" }, Ct);
        try
        {
            var result = await RunAsync("submit", file, "--wait", "--poll-interval", "100ms", "--max-retries", "0", "--metadata", "sandbox_line_latency_ms=200");

            Assert.True(result.ExitCode == 4, result.ToString());
            var batchId = Assert.Single(result.OutLines);
            Assert.Matches($"error: The server answered HTTP 500: .+ Stopped waiting; the batch goes on \\(batchaspire status {batchId}\\)", result.Error);
            Assert.Equal("completed", (await Server.WaitForEndAsync(batchId, Ct)).GetProperty("status").GetString());
        }
        finally
        {
            await sandbox.SetFaultsAsync(new { }, Ct);
        }
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    public void Dispose() => _requests.Dispose();
}
