using BatchAspire.Testing;

namespace BatchAspire.Sandbox.Tests.Messages;

/// <summary>
/// The official <c>@anthropic-ai/sdk</c> npm package against the Sandbox's Message Batches API
/// (tests/sdk/anthropic-batches.mjs), configured only by ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY.
/// </summary>
public sealed class AnthropicNodeSdkTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheAnthropicNodeSdkCreatesRetrievesListsCancelsReadsResultsAndDeletes()
    {
        var sdk = await NodeSdk.EnsureInstalledAsync(Ct);
        Assert.StartsWith("1.", NodeSdk.InstalledVersion("@anthropic-ai/sdk"));
        // Every batch waits a second before it runs: long enough for the script to cancel its second batch first.
        await sandbox.Host.SetFaultsAsync(new { validation_delay_ms = 1000 }, Ct);

        var (exit, stdout, stderr) = await NodeSdk.RunAnthropicAsync(Path.Combine(sdk, "anthropic-batches.mjs"), sandbox.Host.RootUrl, Ct);

        Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
        var lines = stdout.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var created = Assert.Single(lines, l => l.StartsWith("created ", StringComparison.Ordinal)).Split(' ');
        var first = created[1];
        Assert.Matches("^msgbatch_", first);
        Assert.Equal(["message_batch", "in_progress", "processing=3"], created[2..]);
        Assert.Contains($"retrieved {first} ended succeeded=3 errored=0 results_url={sandbox.Host.BaseUrl.AbsoluteUri}/messages/batches/{first}/results", lines);
        var results = lines.Where(l => l.StartsWith("result ", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, results.Count);
        Assert.Contains("result review-0 succeeded positive true", results);
        Assert.Contains("result review-1 succeeded negative true", results);
        Assert.Contains("result review-2 succeeded neutral true", results);

        var cancel = Assert.Single(lines, l => l.StartsWith("cancel ", StringComparison.Ordinal)).Split(' ');
        var second = cancel[1];
        Assert.Equal(["canceling", "initiated=true"], cancel[2..]);
        Assert.Contains($"canceled {second} canceled=4", lines);
        Assert.Contains("canceled results canceled,canceled,canceled,canceled", lines);
        Assert.Contains($"listed {second},{first}", lines);
        Assert.Contains($"deleted {second} message_batch_deleted", lines);
        Assert.Contains("after delete NotFoundError 404 not_found_error", lines);
    }
}
