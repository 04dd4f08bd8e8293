using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Load;

/// <summary>
/// The calls of the Batch API workflow over plain HTTP (upload, create, retrieve, download), the same client
/// for the baseline and for BatchAspire so the comparison measures the servers, not the clients.
/// </summary>
internal sealed class BatchApiClient(Uri baseUrl, string apiKey) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseUrl.ToString().TrimEnd('/') + "/"), Timeout = TimeSpan.FromMinutes(10) };

    public async Task<string> UploadAsync(Stream content, string fileName, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent("batch"), "purpose");
        var file = new StreamContent(content, 1 << 20);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", fileName);
        using var request = Request(HttpMethod.Post, "files");
        request.Content = form;
        return (await SendAsync(request, ct)).GetProperty("id").GetString()!;
    }

    public async Task<string> CreateBatchAsync(string inputFileId, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Post, "batches");
        request.Content = new StringContent(
            $$"""{"input_file_id":"{{inputFileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""",
            Encoding.UTF8, "application/json");
        return (await SendAsync(request, ct)).GetProperty("id").GetString()!;
    }

    /// <summary>GET of any JSON resource relative to the base URL.</summary>
    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, path);
        return await SendAsync(request, ct);
    }

    public async Task<JsonElement> RetrieveBatchAsync(string batchId, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, $"batches/{batchId}");
        return await SendAsync(request, ct);
    }

    /// <summary>
    /// How often <see cref="WaitAsync"/> asks: eager, and the same on both sides, so a side's time is its server's
    /// and neither client waits out a long sleep after its batch is done.
    /// </summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(0.25);

    /// <summary>Downloads a result file and counts its lines (the user's program would parse them).</summary>
    public async Task<int> CountLinesAsync(string fileId, CancellationToken ct)
    {
        using var request = Request(HttpMethod.Get, $"files/{fileId}/content");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[1 << 16];
        var lines = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        return lines;
    }

    /// <summary>Downloads a finished batch's output and error files and counts their lines: the requests it answered.</summary>
    public async Task<(int Succeeded, int Failed)> CountResultsAsync(JsonElement batch, CancellationToken ct)
    {
        var ok = batch.GetProperty("output_file_id").ValueKind == JsonValueKind.String
            ? await CountLinesAsync(batch.GetProperty("output_file_id").GetString()!, ct) : 0;
        var failed = batch.GetProperty("error_file_id").ValueKind == JsonValueKind.String
            ? await CountLinesAsync(batch.GetProperty("error_file_id").GetString()!, ct) : 0;
        return (ok, failed);
    }

    /// <summary>Retrieves the batch every <see cref="PollInterval"/> until it reaches a terminal status.</summary>
    public async Task<JsonElement> WaitAsync(string batchId, CancellationToken ct)
    {
        while (true)
        {
            var batch = await RetrieveBatchAsync(batchId, ct);
            if (batch.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled")
            {
                return batch;
            }
            await Task.Delay(PollInterval, ct);
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return request;
    }

    private async Task<JsonElement> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await _http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{request.Method} {request.RequestUri}: {(int)response.StatusCode} {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
