using BatchAspire.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// The seed guide's Node.js steps (tests/sdk/seed-node.mjs) with the official <c>openai</c> npm package,
/// 4.x and 7.x, against the intake: only OPENAI_BASE_URL and OPENAI_API_KEY point at BatchAspire.
/// </summary>
[Collection(nameof(AppHostCollection))]
public sealed class SeedNodeStepsTests(AppHostFixture fixture)
{
    [Theory]
    [InlineData("openai")]
    [InlineData("openai-v7")]
    public async Task SeedNodeStepsPrintOneAnswerPerRequestThroughTheIntake(string package)
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = await NodeSdk.EnsureInstalledAsync(ct);
        var work = Directory.CreateTempSubdirectory("seed-node-intake-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "batch_requests.jsonl"), SeedReviews.Jsonl(), ct);

            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "seed-node.mjs"), [], work.FullName,
                fixture.IntakeBaseUrl, package, ct, apiKey: "ba-dev-key");

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            var output = stdout.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains(output, l => l.StartsWith("File ID: file-", StringComparison.Ordinal));
            Assert.Contains(output, l => l.StartsWith("Batch ID: batch_", StringComparison.Ordinal));
            Assert.Contains("Batch completed!", output);
            for (var i = 0; i < SeedReviews.Texts.Count; i++)
            {
                Assert.Contains($"request-{i}: {SeedReviews.ExpectedSentiments[i]}", output);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
