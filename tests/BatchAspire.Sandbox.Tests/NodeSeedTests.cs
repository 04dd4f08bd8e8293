using System.Text.Json;
using BatchAspire.Testing;

namespace BatchAspire.Sandbox.Tests;

/// <summary>
/// The seed guide's Node.js steps (tests/sdk/seed-node.mjs) run unmodified with the official
/// <c>openai</c> npm package, 4.x and 7.x, only OPENAI_BASE_URL pointing at the Sandbox.
/// </summary>
public sealed class NodeSeedTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
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
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "batch_requests.jsonl"), SeedReviews.Jsonl(), Ct);

            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "seed-node.mjs"), [], work.FullName, sandbox.Host.BaseUrl, package, Ct);

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            var output = stdout.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains(output, l => l.StartsWith("File ID: file-", StringComparison.Ordinal));
            Assert.Contains(output, l => l.StartsWith("Batch ID: batch_", StringComparison.Ordinal));
            Assert.Contains("Batch completed!", output);
            for (var i = 0; i < SeedReviews.Texts.Count; i++) Assert.Contains($"request-{i}: {SeedReviews.ExpectedSentiments[i]}", output);
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
