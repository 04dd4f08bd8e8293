#pragma warning disable OPENAI001 // the Batch client is experimental in OpenAI 2.15.0
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;

namespace BatchAspire.Conformance;

/// <summary>One account on a target, spoken to over plain HTTP (and the official .NET SDK).</summary>
public sealed class OpenAIApi : IDisposable
{
    public const string ChatEndpoint = "/v1/chat/completions";
    private static readonly string[] Terminal = ["completed", "failed", "expired", "cancelled"];

    private OpenAIApi(HttpClient http, Uri baseUrl, string apiKey)
    {
        Http = http;
        BaseUrl = baseUrl;
        ApiKey = apiKey;
    }

    public HttpClient Http { get; }
    public Uri BaseUrl { get; }
    public string ApiKey { get; }

    public static async Task<OpenAIApi> CreateAsync(ConformanceTarget target, CancellationToken ct) =>
        new(target.CreateHttpClient(), target.BaseUrl, await target.NewApiKeyAsync(ct));

    public Uri Url(string path) => new(BaseUrl.AbsoluteUri.TrimEnd('/') + "/" + path.TrimStart('/'));

    public HttpRequestMessage Request(HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, Url(path)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return request;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, CancellationToken ct = default) =>
        Http.SendAsync(Request(method, path, content), ct);

    public async Task<JsonElement> OkJsonAsync(HttpMethod method, string path, HttpContent? content = null, CancellationToken ct = default)
    {
        using var response = await SendAsync(method, path, content, ct);
        return await Wire.AssertOkJsonAsync(response);
    }

    public static HttpContent Json(object body) => JsonContent.Create(body);

    /// <summary>Uploads as the Python SDK does (purpose first, then the file, Content-Length set).</summary>
    public async Task<JsonElement> UploadAsync(byte[] content, string filename = "batch_requests.jsonl", string purpose = "batch", CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Post, "files", Multipart.PythonShaped(content, filename, purpose), ct);
        return await Wire.AssertOkJsonAsync(response);
    }

    public Task<HttpResponseMessage> CreateBatchRawAsync(object body, CancellationToken ct = default) =>
        SendAsync(HttpMethod.Post, "batches", Json(body), ct);

    public async Task<JsonElement> CreateBatchAsync(string inputFileId, string endpoint = ChatEndpoint,
        IReadOnlyDictionary<string, string>? metadata = null, object? outputExpiresAfter = null, CancellationToken ct = default)
    {
        var body = new Dictionary<string, object?>
        {
            ["input_file_id"] = inputFileId,
            ["endpoint"] = endpoint,
            ["completion_window"] = "24h",
        };
        if (metadata is not null) body["metadata"] = metadata;
        if (outputExpiresAfter is not null) body["output_expires_after"] = outputExpiresAfter;
        using var response = await CreateBatchRawAsync(body, ct);
        return await Wire.AssertOkJsonAsync(response);
    }

    /// <summary>Uploads <paramref name="lines"/> and creates a batch over them.</summary>
    public async Task<JsonElement> SubmitAsync(byte[] lines, string endpoint = ChatEndpoint,
        IReadOnlyDictionary<string, string>? metadata = null, CancellationToken ct = default)
    {
        var file = await UploadAsync(lines, ct: ct);
        return await CreateBatchAsync(file.GetProperty("id").GetString()!, endpoint, metadata, ct: ct);
    }

    public Task<JsonElement> GetBatchAsync(string batchId, CancellationToken ct = default) =>
        OkJsonAsync(HttpMethod.Get, $"batches/{batchId}", ct: ct);

    /// <summary>Polls until the batch reaches one of <paramref name="statuses"/> (default: a terminal one); bounded in time.</summary>
    public async Task<JsonElement> WaitForAsync(string batchId, CancellationToken ct, TimeSpan? timeout = null, params string[] statuses)
    {
        var wanted = statuses.Length > 0 ? statuses : Terminal;
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var batch = await GetBatchAsync(batchId, ct);
            var status = batch.GetProperty("status").GetString()!;
            if (wanted.Contains(status)) return batch;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Batch {batchId} still '{status}' after waiting for {string.Join('/', wanted)}.");
            await Task.Delay(50, ct);
        }
    }

    public async Task<byte[]> DownloadAsync(string fileId, CancellationToken ct = default)
    {
        using var response = await SendAsync(HttpMethod.Get, $"files/{fileId}/content", ct: ct);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    /// <summary>The result lines of a file, parsed; asserts the JSONL shape of docs/openai/lines.md §4 on the way.</summary>
    public async Task<List<JsonElement>> ResultLinesAsync(string fileId, CancellationToken ct = default)
    {
        var bytes = await DownloadAsync(fileId, ct);
        return Wire.ParseJsonl(bytes);
    }

    /// <summary>The official .NET SDK pointed at this account, over this account's HttpClient.</summary>
    public OpenAIClient Sdk(HttpClient? http = null) =>
        new(new ApiKeyCredential(ApiKey), new OpenAIClientOptions
        {
            Endpoint = BaseUrl,
            Transport = new HttpClientPipelineTransport(http ?? Http),
        });

    public void Dispose() => Http.Dispose();
}

/// <summary>Builders for input files.</summary>
public static class Jsonl
{
    public static string Chat(string customId, string content, string model = "gpt-5-nano", string url = OpenAIApi.ChatEndpoint,
        int maxTokens = 10, string method = "POST") =>
        JsonSerializer.Serialize(new
        {
            custom_id = customId,
            method,
            url,
            body = new
            {
                model,
                messages = new object[]
                {
                    new { role = "system", content = "You are a helpful assistant." },
                    new { role = "user", content },
                },
                max_tokens = maxTokens,
            },
        });

    public static byte[] File(params IEnumerable<string> lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    public static byte[] ChatFile(int count, string prefix = "request") =>
        File(Enumerable.Range(0, count).Select(i => Chat($"{prefix}-{i}", $"Hello number {i}")));
}
