using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Sandbox.Tests.Messages;

/// <summary>A raw HTTP client of the Sandbox's Message Batches API, with Anthropic's headers and a fresh key (a fresh project).</summary>
public sealed class AnthropicApi : IDisposable
{
    public const string Version = "2023-06-01";

    private AnthropicApi(SandboxHost host, string apiKey)
    {
        ApiKey = apiKey;
        Http = host.CreateClient();
        Http.DefaultRequestHeaders.Add("x-api-key", apiKey);
        Http.DefaultRequestHeaders.Add("anthropic-version", Version);
    }

    public string ApiKey { get; }
    public HttpClient Http { get; }

    public static AnthropicApi For(SandboxHost host, string? apiKey = null) => new(host, apiKey ?? "sk-ant-" + Guid.NewGuid().ToString("N"));

    /// <summary>A Messages request whose local answer is an echo of <paramref name="text"/>.</summary>
    public static object Request(string customId, string text, int maxTokens = 64, string model = "claude-sonnet-4-5", object? extra = null) => new
    {
        custom_id = customId,
        @params = extra ?? new
        {
            model,
            max_tokens = maxTokens,
            messages = new[] { new { role = "user", content = text } },
        },
    };

    public async Task<JsonElement> CreateAsync(IEnumerable<object> requests, CancellationToken ct)
    {
        using var response = await Http.PostAsJsonAsync("v1/messages/batches", new { requests }, ct);
        return await OkAsync(response, ct);
    }

    public Task<HttpResponseMessage> PostRawAsync(string json, CancellationToken ct) =>
        Http.PostAsync("v1/messages/batches", new StringContent(json, Encoding.UTF8, "application/json"), ct);

    public async Task<JsonElement> GetAsync(string path, CancellationToken ct)
    {
        using var response = await Http.GetAsync(path, ct);
        return await OkAsync(response, ct);
    }

    public async Task<JsonElement> PostAsync(string path, CancellationToken ct)
    {
        using var response = await Http.PostAsync(path, null, ct);
        return await OkAsync(response, ct);
    }

    public async Task<JsonElement> WaitEndedAsync(string batchId, CancellationToken ct, int timeoutSeconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        while (true)
        {
            var batch = await GetAsync($"v1/messages/batches/{batchId}", ct);
            if (batch.GetProperty("processing_status").GetString() == "ended") return batch;
            Assert.True(DateTime.UtcNow < deadline, $"batch {batchId} did not end within {timeoutSeconds} s: {batch}");
            await Task.Delay(50, ct);
        }
    }

    public async Task<List<JsonElement>> ResultsAsync(string batchId, CancellationToken ct)
    {
        using var response = await Http.GetAsync($"v1/messages/batches/{batchId}/results", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.EndsWith("\n", text);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
    }

    /// <summary>Asserts Anthropic's error shape and returns <c>error</c> (its <c>type</c> and <c>message</c>).</summary>
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("request-id"), "request-id header missing");
        using var document = JsonDocument.Parse(text);
        Assert.Equal("error", document.RootElement.GetProperty("type").GetString());
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.NotEmpty(error.GetProperty("message").GetString()!);
        return error.Clone();
    }

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public void Dispose() => Http.Dispose();
}
