using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// The exact HTTP calls the official Python SDK (openai 2.54) makes for the seed workflow, as captured
/// in docs/openai/sdk-calls.md and docs/openai/errors.md. Neither PyPI nor a Debian package of the SDK can be
/// had on these machines, so the seed's Python examples are driven through this instead.
/// </summary>
internal sealed class PythonSdkWire(HttpClient http, Uri baseUrl, string apiKey)
{
    private readonly string _base = baseUrl.ToString().TrimEnd('/') + "/";

    /// <summary><c>client.files.create(file=open(path, "rb"), purpose="batch")</c></summary>
    public async Task<JsonNode> CreateFileAsync(string fileName, byte[] content, CancellationToken ct)
    {
        var boundary = Guid.NewGuid().ToString("N");            // httpx: 32 hex chars, unquoted
        var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n");
        Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(content);
        Write($"\r\n--{boundary}--\r\n");

        var request = Request(HttpMethod.Post, "files");
        request.Content = new ByteArrayContent(body.ToArray());
        request.Content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
        return await SendJsonAsync(request, ct);
    }

    /// <summary><c>client.batches.create(input_file_id=…, endpoint=…, completion_window="24h")</c>: keys in alphabetical order.</summary>
    public Task<JsonNode> CreateBatchAsync(string inputFileId, string endpoint, CancellationToken ct)
    {
        var request = Request(HttpMethod.Post, "batches");
        request.Content = JsonBody($$"""{"completion_window": "24h", "endpoint": "{{endpoint}}", "input_file_id": "{{inputFileId}}"}""");
        return SendJsonAsync(request, ct);
    }

    /// <summary><c>client.batches.retrieve(batch_id)</c></summary>
    public Task<JsonNode> RetrieveBatchAsync(string batchId, CancellationToken ct) =>
        SendJsonAsync(Request(HttpMethod.Get, $"batches/{batchId}"), ct);

    /// <summary><c>client.batches.cancel(batch_id)</c>: JSON content type with an empty body.</summary>
    public Task<JsonNode> CancelBatchAsync(string batchId, CancellationToken ct)
    {
        var request = Request(HttpMethod.Post, $"batches/{batchId}/cancel");
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendJsonAsync(request, ct);
    }

    /// <summary><c>client.batches.list(limit=…)</c> (one page; <c>after</c> when the SDK auto-pages).</summary>
    public Task<JsonNode> ListBatchesAsync(int limit, string? after, CancellationToken ct) =>
        SendJsonAsync(Request(HttpMethod.Get, after is null ? $"batches?limit={limit}" : $"batches?limit={limit}&after={after}"), ct);

    /// <summary><c>client.files.content(file_id).content</c></summary>
    public async Task<byte[]> FileContentAsync(string fileId, CancellationToken ct)
    {
        var request = Request(HttpMethod.Get, $"files/{fileId}/content");
        request.Headers.Accept.Clear();
        request.Headers.TryAddWithoutValidation("Accept", "application/binary");
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, new Uri(_base + path));
        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {apiKey}");
        request.Headers.TryAddWithoutValidation("Accept", "application/json");
        request.Headers.TryAddWithoutValidation("User-Agent", "OpenAI/Python 2.54.0");
        request.Headers.TryAddWithoutValidation("X-Stainless-Lang", "python");
        request.Headers.TryAddWithoutValidation("X-Stainless-Package-Version", "2.54.0");
        request.Headers.TryAddWithoutValidation("X-Stainless-OS", "Linux");
        request.Headers.TryAddWithoutValidation("X-Stainless-Arch", "x64");
        request.Headers.TryAddWithoutValidation("X-Stainless-Runtime", "CPython");
        request.Headers.TryAddWithoutValidation("X-Stainless-Runtime-Version", "3.11.7");
        request.Headers.TryAddWithoutValidation("X-Stainless-Async", "false");
        request.Headers.TryAddWithoutValidation("x-stainless-retry-count", "0");
        request.Headers.TryAddWithoutValidation("x-stainless-read-timeout", "600");
        return request;
    }

    private static ByteArrayContent JsonBody(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private async Task<JsonNode> SendJsonAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode} {text}", null, response.StatusCode);
        }
        return JsonNode.Parse(text) ?? throw new JsonException("empty body");
    }
}
