using System.ClientModel;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK marks its Batch client experimental

namespace BatchAspire.EndToEnd.Tests;

/// <summary>The official OpenAI .NET SDK pointed at the intake, as a user would use it.</summary>
/// <param name="http">Sends the SDK's requests when given (e.g. a client whose sockets live in another network namespace).</param>
internal sealed class IntakeSdk(Uri baseUrl, string apiKey, HttpClient? http = null)
{
    private readonly OpenAIClient _client = new(new ApiKeyCredential(apiKey), Options(baseUrl, http));

    public OpenAIFileClient Files => _client.GetOpenAIFileClient();

    public BatchClient Batches => _client.GetBatchClient();

    public async Task<string> UploadAsync(Stream content, string fileName, CancellationToken ct) =>
        (await Files.UploadFileAsync(content, fileName, FileUploadPurpose.Batch, ct)).Value.Id;

    public async Task<string> CreateBatchAsync(string inputFileId, CancellationToken ct)
    {
        var body = BinaryData.FromObjectAsJson(new { input_file_id = inputFileId, endpoint = "/v1/chat/completions", completion_window = "24h" });
        var operation = await Batches.CreateBatchAsync(BinaryContent.Create(body), waitUntilCompleted: false, new System.ClientModel.Primitives.RequestOptions { CancellationToken = ct });
        return operation.BatchId;
    }

    public async Task<JsonElement> GetBatchAsync(string batchId, CancellationToken ct)
    {
        var result = await Batches.GetBatchAsync(batchId, new System.ClientModel.Primitives.RequestOptions { CancellationToken = ct });
        return JsonDocument.Parse(result.GetRawResponse().Content).RootElement.Clone();
    }

    /// <summary>Polls until the batch is terminal (bounded).</summary>
    public async Task<JsonElement> WaitForEndAsync(string batchId, TimeSpan bound, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        while (true)
        {
            var batch = await GetBatchAsync(batchId, ct);
            var status = batch.GetProperty("status").GetString();
            if (status is "completed" or "failed" or "expired" or "cancelled")
            {
                return batch;
            }
            Assert.True(DateTime.UtcNow < deadline, $"batch {batchId} still {status} after {bound}: {batch}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    /// <summary>The JSONL lines of a file, or none when the id is null.</summary>
    public async Task<IReadOnlyList<JsonElement>> ReadLinesAsync(JsonElement fileId, CancellationToken ct)
    {
        if (fileId.ValueKind != JsonValueKind.String)
        {
            return [];
        }
        var content = await Files.DownloadFileAsync(fileId.GetString()!, ct);
        return Encoding.UTF8.GetString(content.Value.ToMemory().Span)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .ToList();
    }

    private static OpenAIClientOptions Options(Uri baseUrl, HttpClient? http)
    {
        var options = new OpenAIClientOptions { Endpoint = baseUrl, NetworkTimeout = TimeSpan.FromMinutes(5) };
        if (http is not null) options.Transport = new System.ClientModel.Primitives.HttpClientPipelineTransport(http);
        return options;
    }
}
