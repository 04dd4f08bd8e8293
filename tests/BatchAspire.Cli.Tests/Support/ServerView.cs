using System.ClientModel;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;

#pragma warning disable OPENAI001 // the SDK marks its Batch client experimental

namespace BatchAspire.Cli.Tests.Support;

/// <summary>What the server holds, read with the official SDK directly (not through the tool), to check what the tool did.</summary>
public sealed class ServerView(Uri baseUrl, string apiKey)
{
    private readonly OpenAIClient _client = new(new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = baseUrl });

    public async Task<JsonElement> BatchAsync(string batchId, CancellationToken ct)
    {
        var result = await _client.GetBatchClient().GetBatchAsync(batchId, new System.ClientModel.Primitives.RequestOptions { CancellationToken = ct });
        return JsonDocument.Parse(result.GetRawResponse().Content).RootElement.Clone();
    }

    public async Task<byte[]> FileBytesAsync(string fileId, CancellationToken ct) =>
        (await _client.GetOpenAIFileClient().DownloadFileAsync(fileId, ct)).Value.ToArray();

    public async Task<int> FileCountAsync(CancellationToken ct) =>
        (await _client.GetOpenAIFileClient().GetFilesAsync(ct)).Value.Count;

    public async Task<JsonElement> WaitForEndAsync(string batchId, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var batch = await BatchAsync(batchId, ct);
            if (batch.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled") return batch;
            Assert.True(DateTime.UtcNow < deadline, $"batch {batchId} did not end in 30 s: {batch}");
            await Task.Delay(100, ct);
        }
    }
}
