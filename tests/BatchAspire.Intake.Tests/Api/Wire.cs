using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>Raw HTTP helpers for wire-level assertions.</summary>
public static class Wire
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A multipart upload shaped like the Python SDK's: purpose first, quoted names, octet-stream file part.</summary>
    public static MultipartFormDataContent PythonUpload(byte[] file, string filename = "x.jsonl", string purpose = "batch", IEnumerable<(string, string)>? extra = null)
    {
        var form = new MultipartFormDataContent(Guid.NewGuid().ToString("N"));
        form.Add(new StringContent(purpose), "\"purpose\"");
        foreach (var (name, value) in extra ?? []) form.Add(new StringContent(value), $"\"{name}\"");
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(part, "\"file\"", $"\"{filename}\"");
        return form;
    }

    /// <summary><see cref="PythonUpload"/> as bytes, for bodies sent as a plain stream (no length known up front).</summary>
    public static byte[] PythonBody(byte[] file, out MediaTypeHeaderValue type)
    {
        var form = PythonUpload(file);
        type = form.Headers.ContentType!;
        return form.ReadAsByteArrayAsync().GetAwaiter().GetResult();
    }

    public static async Task<JsonObject> UploadAsync(HttpClient client, byte[] file, string filename = "x.jsonl", string purpose = "batch")
    {
        using var response = await client.PostAsync("/v1/files", PythonUpload(file, filename, purpose), Ct);
        return await OkJsonAsync(response);
    }

    public static async Task<JsonObject> CreateBatchAsync(HttpClient client, string fileId, string endpoint = "/v1/chat/completions", string? extra = null)
    {
        using var response = await PostJsonAsync(client, "/v1/batches",
            $$"""{"input_file_id":"{{fileId}}","endpoint":"{{endpoint}}","completion_window":"24h"{{extra}}}""");
        return await OkJsonAsync(response);
    }

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);

    public static async Task<JsonObject> OkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Asserts the OpenAI envelope (all four keys, JSON content type, x-request-id) and returns its inner object.</summary>
    public static async Task<JsonObject> ErrorAsync(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-request-id").Single()));
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.Equal(JsonValueKind.String, error["message"]!.GetValueKind());
        return error;
    }

    /// <summary>Polls <paramref name="condition"/> for at most <paramref name="seconds"/>; fails the test when it stays false.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Condition still false after {seconds} s.");
            await Task.Delay(25, Ct);
        }
    }

    public static string? Str(this JsonNode? node) => node?.GetValue<string>();
}
