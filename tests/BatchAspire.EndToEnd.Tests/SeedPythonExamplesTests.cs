using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using BatchAspire.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// The seed guide's Python examples (shared/seed/batch-api-guide.md) against the intake, with only the
/// base URL changed, driven through the HTTP calls the Python SDK makes (<see cref="PythonSdkWire"/>).
/// Each test keeps what the script would print and checks it.
/// </summary>
[Collection(nameof(AppHostCollection))]
public sealed class SeedPythonExamplesTests(AppHostFixture fixture)
{
    private const string DevelopmentKey = "ba-dev-key";

    private static readonly IReadOnlyList<string> TextsToClassify = SeedReviews.Texts;

    [Fact]
    public async Task TextClassificationExamplePrintsOneSentimentPerText()
    {
        var printed = await RunTextClassificationExampleAsync(Client(), TestContext.Current.CancellationToken);
        TestContext.Current.SendDiagnosticMessage(printed);
    }

    /// <summary>The seed's text classification example, start to end; asserts what it prints and returns it.</summary>
    internal static async Task<string> RunTextClassificationExampleAsync(PythonSdkWire client, CancellationToken ct)
    {
        var printed = new StringBuilder();

        // Step 2: create the batch file exactly as the script does (json.dumps(request) + "\n").
        var file = new StringBuilder();
        for (var i = 0; i < TextsToClassify.Count; i++)
        {
            var request = new JsonObject
            {
                ["custom_id"] = $"request-{i}",
                ["method"] = "POST",
                ["url"] = "/v1/chat/completions",
                ["body"] = new JsonObject
                {
                    ["model"] = "gpt-5-nano",
                    ["messages"] = new JsonArray(
                        new JsonObject { ["role"] = "system", ["content"] = "Classify sentiment as: positive, negative, or neutral" },
                        new JsonObject { ["role"] = "user", ["content"] = TextsToClassify[i] }),
                    ["max_tokens"] = 10,
                },
            };
            file.Append(PythonJson.Dumps(request)).Append('\n');
        }

        var batchFile = await client.CreateFileAsync("sentiment_batch.jsonl", Encoding.UTF8.GetBytes(file.ToString()), ct);
        var batchJob = await client.CreateBatchAsync(batchFile["id"]!.GetValue<string>(), "/v1/chat/completions", ct);
        printed.AppendLine($"Batch ID: {batchJob["id"]}");

        var batchStatus = await WaitForEndAsync(client, batchJob["id"]!.GetValue<string>(), printed, ct);
        Assert.Equal("completed", batchStatus["status"]!.GetValue<string>());

        var resultContent = await client.FileContentAsync(batchStatus["output_file_id"]!.GetValue<string>(), ct);
        var sentiments = new Dictionary<int, string>();
        foreach (var line in Encoding.UTF8.GetString(resultContent).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var result = JsonNode.Parse(line)!;
            var customId = result["custom_id"]!.GetValue<string>();
            var idx = int.Parse(customId.Split('-')[1], CultureInfo.InvariantCulture);
            var sentiment = result["response"]!["body"]!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
            printed.AppendLine(TextsToClassify[idx]).AppendLine($"  → {sentiment}");
            sentiments[idx] = sentiment;
        }

        var totalTokens = batchStatus["request_counts"]!["completed"]!.GetValue<int>() * 100;
        var standardCost = totalTokens / 1_000_000.0 * 0.05;
        printed.AppendLine($"Cost with Batch API: ${standardCost * 0.5:F4}");

        Assert.Equal(SeedReviews.ExpectedSentiments, Enumerable.Range(0, TextsToClassify.Count).Select(i => sentiments[i]));
        Assert.Contains("request-", Encoding.UTF8.GetString(resultContent));
        Assert.Contains("Cost with Batch API: $0.0000", printed.ToString());
        return printed.ToString();
    }

    [Fact]
    public async Task ImageCaptionExamplePrintsOneCaptionPerImage()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = Client();
        string[] imageUrls = ["https://example.com/image1.jpg", "https://example.com/image2.jpg", "https://example.com/image3.jpg"];

        var file = new StringBuilder();
        for (var i = 0; i < imageUrls.Length; i++)
        {
            var request = new JsonObject
            {
                ["custom_id"] = $"image-{i}",
                ["method"] = "POST",
                ["url"] = "/v1/chat/completions",
                ["body"] = new JsonObject
                {
                    ["model"] = "gpt-5-nano",
                    ["messages"] = new JsonArray(new JsonObject
                    {
                        ["role"] = "user",
                        ["content"] = new JsonArray(
                            new JsonObject { ["type"] = "text", ["text"] = "Write a brief caption for this image." },
                            new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = imageUrls[i] } }),
                    }),
                    ["max_tokens"] = 100,
                },
            };
            file.Append(PythonJson.Dumps(request)).Append('\n');
        }

        var batchFile = await client.CreateFileAsync("image_captions_batch.jsonl", Encoding.UTF8.GetBytes(file.ToString()), ct);
        var batchJob = await client.CreateBatchAsync(batchFile["id"]!.GetValue<string>(), "/v1/chat/completions", ct);
        var printed = new StringBuilder().AppendLine($"Batch job created: {batchJob["id"]}");

        // "Upload and process (same as above)": poll, download, print one caption per image.
        var batchStatus = await WaitForEndAsync(client, batchJob["id"]!.GetValue<string>(), printed, ct);
        Assert.Equal("completed", batchStatus["status"]!.GetValue<string>());
        var output = Encoding.UTF8.GetString(await client.FileContentAsync(batchStatus["output_file_id"]!.GetValue<string>(), ct));
        var captions = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!)
            .ToDictionary(r => r["custom_id"]!.GetValue<string>(), r => r["response"]!["body"]!["choices"]![0]!["message"]!["content"]!.GetValue<string>());

        Assert.Equal(["image-0", "image-1", "image-2"], captions.Keys.Order());
        Assert.All(captions.Values, caption => Assert.False(string.IsNullOrWhiteSpace(caption)));
        TestContext.Current.SendDiagnosticMessage(printed.ToString());
    }

    private PythonSdkWire Client() => new(fixture.CreateIntakeClient(), fixture.IntakeBaseUrl, DevelopmentKey);

    /// <summary>The seed's status loop (its 60 s sleep shortened to 1 s), bounded to five minutes.</summary>
    private static async Task<JsonNode> WaitForEndAsync(PythonSdkWire client, string batchId, StringBuilder printed, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (true)
        {
            var batchStatus = await client.RetrieveBatchAsync(batchId, ct);
            var status = batchStatus["status"]!.GetValue<string>();
            printed.AppendLine($"Status: {status} - {batchStatus["request_counts"]?.ToJsonString()}");
            if (status is "completed" or "failed" or "expired" or "cancelled" || DateTime.UtcNow > deadline)
            {
                return batchStatus;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }
}
