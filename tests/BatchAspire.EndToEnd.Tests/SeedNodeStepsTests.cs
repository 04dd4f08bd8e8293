using System.Text;
using System.Text.Json;
using BatchAspire.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// The seed guide's Node.js steps (tests/sdk/seed-node.mjs) with the official <c>openai</c> npm package,
/// 4.x and 7.x, against the intake: only OPENAI_BASE_URL and OPENAI_API_KEY point at BatchAspire.
/// </summary>
[Collection(nameof(AppHostCollection))]
public sealed class SeedNodeStepsTests(AppHostFixture fixture)
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
            var lines = new StringBuilder();
            for (var i = 0; i < Reviews.Length; i++)
            {
                lines.Append(JsonSerializer.Serialize(new
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
                            new { role = "user", content = Reviews[i] },
                        },
                        max_tokens = 10,
                    },
                })).Append('\n');
            }
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "batch_requests.jsonl"), lines.ToString(), ct);

            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "seed-node.mjs"), [], work.FullName,
                fixture.IntakeBaseUrl, package, ct, apiKey: "ba-dev-key");

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            var output = stdout.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains(output, l => l.StartsWith("File ID: file-", StringComparison.Ordinal));
            Assert.Contains(output, l => l.StartsWith("Batch ID: batch_", StringComparison.Ordinal));
            Assert.Contains("Batch completed!", output);
            for (var i = 0; i < Reviews.Length; i++)
            {
                Assert.Contains($"request-{i}: {Expected[i]}", output);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
