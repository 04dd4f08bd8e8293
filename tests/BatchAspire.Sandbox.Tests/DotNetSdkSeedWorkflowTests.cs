#pragma warning disable OPENAI001 // the Batch client is experimental in OpenAI 2.15.0
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI.Batch;
using OpenAI.Files;
using BatchAspire.Testing;

namespace BatchAspire.Sandbox.Tests;

/// <summary>The seed workflow with the official .NET SDK 2.15.0: upload, create, poll, download, cancel, list.</summary>
public sealed class DotNetSdkSeedWorkflowTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string JsonOf(BinaryData data, string property) =>
        JsonDocument.Parse(data).RootElement.GetProperty(property).ToString();

    [Fact]
    public async Task DotNetSdkRunsTheSeedWorkflow()
    {
        using var api = await OpenAIApi.CreateAsync(sandbox.Target, Ct);
        var client = api.Sdk();
        var files = client.GetOpenAIFileClient();
        var batches = client.GetBatchClient();

        var jsonl = SeedReviews.Jsonl();
        OpenAIFile input = await files.UploadFileAsync(new MemoryStream(Encoding.UTF8.GetBytes(jsonl)), "sentiment_batch.jsonl", FileUploadPurpose.Batch, Ct);

        var create = BinaryContent.Create(BinaryData.FromObjectAsJson(new { input_file_id = input.Id, endpoint = "/v1/chat/completions", completion_window = "24h" }));
        var operation = await batches.CreateBatchAsync(create, waitUntilCompleted: false, new RequestOptions { CancellationToken = Ct });
        Assert.Contains(JsonOf(operation.GetRawResponse().Content, "status"), new[] { "validating", "in_progress" });

        var deadline = DateTime.UtcNow.AddSeconds(30);
        string status;
        ClientResult batch;
        do
        {
            batch = await batches.GetBatchAsync(operation.BatchId, new RequestOptions { CancellationToken = Ct });
            status = JsonOf(batch.GetRawResponse().Content, "status");
            Assert.True(DateTime.UtcNow < deadline, $"still {status}");
            await Task.Delay(50, Ct);
        }
        while (status != "completed");
        using var done = JsonDocument.Parse(batch.GetRawResponse().Content);
        Assert.Equal(5, done.RootElement.GetProperty("request_counts").GetProperty("completed").GetInt32());

        BinaryData output = await files.DownloadFileAsync(done.RootElement.GetProperty("output_file_id").GetString()!, Ct);
        var sentiments = output.ToString().Trim().Split('\n').Select(line => JsonDocument.Parse(line).RootElement).ToDictionary(
            r => r.GetProperty("custom_id").GetString()!,
            r => r.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        for (var i = 0; i < SeedReviews.Texts.Count; i++) Assert.Equal(SeedReviews.ExpectedSentiments[i], sentiments[$"request-{i}"]);

        var slow = BinaryContent.Create(BinaryData.FromObjectAsJson(new
        {
            input_file_id = input.Id,
            endpoint = "/v1/chat/completions",
            completion_window = "24h",
            metadata = new Dictionary<string, string> { ["sandbox_line_latency_ms"] = "500" },
        }));
        var slowOperation = await batches.CreateBatchAsync(slow, waitUntilCompleted: false, new RequestOptions { CancellationToken = Ct });
        var cancelled = await slowOperation.CancelAsync(new RequestOptions { CancellationToken = Ct });
        Assert.Equal("cancelling", JsonOf(cancelled.GetRawResponse().Content, "status"));
        await slowOperation.WaitForCompletionAsync(Ct);
        Assert.Equal("cancelled", JsonOf(slowOperation.GetRawResponse().Content, "status"));

        var listed = new List<string>();
        await foreach (BatchJob job in batches.GetBatchesAsync(new BatchCollectionOptions { PageSizeLimit = 1 }, Ct)) listed.Add(job.Id);
        Assert.Equal(new[] { slowOperation.BatchId, operation.BatchId }, listed);
    }
}
