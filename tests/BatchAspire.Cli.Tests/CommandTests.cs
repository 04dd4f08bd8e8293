using System.Text.Json;
using BatchAspire.Cli.Tests.Support;

namespace BatchAspire.Cli.Tests;

/// <summary><c>status</c>, <c>list</c>, <c>cancel</c> and <c>download</c> against the Sandbox.</summary>
public sealed class CommandTests(SandboxServer sandbox) : IClassFixture<SandboxServer>, IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Requests _requests = new();
    private readonly string _apiKey = SandboxServer.NewApiKey();

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync(CliRun.Environment(sandbox.BaseUrl, _apiKey), Ct, args);

    private ServerView Server => new(sandbox.BaseUrl, _apiKey);

    private async Task<string> SubmitAsync(int count, string prefix, params string[] extra)
    {
        var result = await RunAsync(["submit", _requests.Write(count, prefix), .. extra]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return Assert.Single(result.OutLines);
    }

    [Fact]
    public async Task StatusJsonPrintsTheServersBatchObjectUnchanged()
    {
        var batchId = await SubmitAsync(3, "status");
        var server = await Server.WaitForEndAsync(batchId, Ct);

        var result = await RunAsync("status", batchId, "--json");

        Assert.Equal(0, result.ExitCode);
        using var printed = JsonDocument.Parse(result.Out);
        Assert.Equal(server.ToString(), printed.RootElement.ToString());
    }

    [Fact]
    public async Task StatusShowsTheBatchsStatusCountsAndFiles()
    {
        var batchId = await SubmitAsync(3, "shown", "--metadata", "owner=ana");
        var server = await Server.WaitForEndAsync(batchId, Ct);

        var result = await RunAsync("status", batchId);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains(batchId, result.Out);
        Assert.Matches(@"status\s+completed", result.Out);
        Assert.Contains("3/3 (100%), done 3, failed 0", result.Out);
        Assert.Contains(server.GetProperty("output_file_id").GetString()!, result.Out);
        Assert.Contains("owner=ana", result.Out);
    }

    [Fact]
    public async Task ListShowsBatchesNewestFirstAndPagesWithAfter()
    {
        var older = await SubmitAsync(2, "older");
        var newer = await SubmitAsync(2, "newer");

        var first = await RunAsync("list", "--limit", "1");
        var second = await RunAsync("list", "--limit", "1", "--after", newer);
        var json = await RunAsync("list", "--json");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains(newer, first.Out);
        Assert.DoesNotContain(older, first.Out);
        Assert.Contains($"More: batchaspire list --after {newer}", first.Error);
        Assert.Contains(older, second.Out);
        Assert.DoesNotContain(newer, second.Out);
        using var page = JsonDocument.Parse(json.Out);
        Assert.Equal([newer, older], page.RootElement.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task CancelAsksTheServerToCancelAndTheBatchEndsCancelled()
    {
        var batchId = await SubmitAsync(20, "cancelled", "--metadata", "sandbox_line_latency_ms=500");

        var result = await RunAsync("cancel", batchId);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches($"^{batchId} (cancelling|cancelled)$", Assert.Single(result.OutLines));
        Assert.Equal("cancelled", (await Server.WaitForEndAsync(batchId, Ct)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task DownloadSavesTheOutputAndErrorFilesByteForByteUnderTheBatchsName()
    {
        // Half the lines answered with a 500 error line (a stable draw per line), so the batch has both files.
        var batchId = await SubmitAsync(20, "downloaded", "--metadata", "sandbox_fail_500_rate=0.5");
        var server = await Server.WaitForEndAsync(batchId, Ct);
        var folder = Path.Combine(_requests.Folder, "results");

        var result = await RunAsync("download", batchId, "-o", folder);

        Assert.True(result.ExitCode == 0, result.ToString());
        var output = Path.Combine(folder, $"{batchId}_output.jsonl");
        var errors = Path.Combine(folder, $"{batchId}_errors.jsonl");
        Assert.Equal([output, errors], result.OutLines);
        Assert.Equal(await Server.FileBytesAsync(server.GetProperty("output_file_id").GetString()!, Ct), await File.ReadAllBytesAsync(output, Ct));
        Assert.Equal(await Server.FileBytesAsync(server.GetProperty("error_file_id").GetString()!, Ct), await File.ReadAllBytesAsync(errors, Ct));
        Assert.Equal(20, File.ReadLines(output).Count() + File.ReadLines(errors).Count());
        Assert.Equal([$"{batchId}_errors.jsonl", $"{batchId}_output.jsonl"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task DownloadOfARunningBatchSaysThereIsNothingYetAndExitsSix()
    {
        var batchId = await SubmitAsync(20, "running", "--metadata", "sandbox_line_latency_ms=500");
        var folder = Path.Combine(_requests.Folder, "early");

        var result = await RunAsync("download", batchId, "-o", folder);

        Assert.Equal(6, result.ExitCode);
        Assert.Matches($"error: Batch {batchId} is (validating|in_progress): it has no output or error file yet", result.Error);
        Assert.False(Directory.Exists(folder));
        await RunAsync("cancel", batchId);
    }

    public void Dispose() => _requests.Dispose();
}
