using System.Net.Http.Headers;
using System.Text.Json;

namespace BatchAspire.Sandbox.Tests;

/// <summary>
/// The Sandbox's Azure OpenAI surface (<c>/openai/v1</c>, docs/sandbox.md "Azure OpenAI"): the <c>api-key</c> header,
/// Azure's 401, deployment names as models, Azure's forms of <c>url</c> and <c>endpoint</c>, its 100,000-line cap, fault knobs.
/// </summary>
public sealed class AzureSurfaceTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private const string Deployment = "contoso-batch-gpt-5-nano";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private HttpRequestMessage Request(HttpMethod method, string path, string? apiKey, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, new Uri(sandbox.Host.RootUrl, "openai/v1/" + path)) { Content = content };
        if (apiKey is not null) request.Headers.Add("api-key", apiKey);
        return request;
    }

    private async Task<JsonElement> OkAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        using (var response = await http.SendAsync(request, Ct))
        {
            return await Wire.AssertOkJsonAsync(response);
        }
    }

    /// <summary>Uploads <paramref name="lines"/> and creates a batch on the Azure surface with Azure's <c>endpoint</c> form.</summary>
    private async Task<string> SubmitAsync(HttpClient http, string apiKey, byte[] lines)
    {
        var file = await OkAsync(http, Request(HttpMethod.Post, "files", apiKey, Multipart.PythonShaped(lines, "azure.jsonl", "batch")));
        var batch = await OkAsync(http, Request(HttpMethod.Post, "batches", apiKey, OpenAIApi.Json(new
        {
            input_file_id = file.Str("id"),
            endpoint = "/chat/completions",
            completion_window = "24h",
        })));
        return batch.Str("id");
    }

    private Task<JsonElement> WaitForEndAsync(HttpClient http, string apiKey, string batchId, TimeSpan timeout) =>
        WaitForAsync(http, apiKey, batchId, timeout, "completed", "failed", "expired", "cancelled");

    private async Task<JsonElement> WaitForAsync(HttpClient http, string apiKey, string batchId, TimeSpan timeout, params string[] statuses)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var batch = await OkAsync(http, Request(HttpMethod.Get, "batches/" + batchId, apiKey));
            if (statuses.Contains(batch.Str("status"))) return batch;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Batch {batchId} still '{batch.Str("status")}' after {timeout}.");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Chat lines as Azure's guide writes them: <c>url</c> without <c>/v1</c>, the deployment as the model.</summary>
    private static byte[] AzureLines(int count) =>
        Jsonl.File(Enumerable.Range(0, count).Select(i => Jsonl.Chat($"task-{i}", $"Hello number {i}", model: Deployment, url: "/chat/completions")));

    [Fact]
    public async Task ARequestWithoutTheApiKeyHeaderIsRefusedWith401InAzuresShapeEvenWithABearerToken()
    {
        using var http = sandbox.Host.CreateClient();
        var key = "azure-" + Guid.NewGuid().ToString("N");

        using var none = Request(HttpMethod.Get, "batches", apiKey: null);
        using var bearer = Request(HttpMethod.Get, "batches", apiKey: null);
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        foreach (var request in new[] { none, bearer })
        {
            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(401, (int)response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            var error = body.RootElement.GetProperty("error");
            Assert.Equal("401", error.Str("code"));
            Assert.StartsWith("Access denied due to invalid subscription key", error.Str("message"), StringComparison.Ordinal);
            Assert.False(error.TryGetProperty("type", out _));   // Azure's shape, not OpenAI's envelope
        }
        var list = await OkAsync(http, Request(HttpMethod.Get, "batches", key));
        Assert.Equal("list", list.Str("object"));
    }

    [Fact]
    public async Task AFileOf100000LinesPassesValidationAndOneMoreLineFailsWithTooManyTasks()
    {
        using var http = sandbox.Host.CreateClient();
        var key = "azure-" + Guid.NewGuid().ToString("N");

        // Past validation is where the cap is checked; the 100,000 requests need not run, so the batch is cancelled then.
        var atCapId = await SubmitAsync(http, key, AzureLines(100_000));
        var atCap = await WaitForAsync(http, key, atCapId, TimeSpan.FromSeconds(60), "in_progress", "finalizing", "completed", "failed");
        await OkAsync(http, Request(HttpMethod.Post, $"batches/{atCapId}/cancel", key));
        var overCap = await WaitForEndAsync(http, key, await SubmitAsync(http, key, AzureLines(100_001)), TimeSpan.FromSeconds(60));

        Assert.NotEqual("failed", atCap.Str("status"));
        Assert.Equal(100_000, atCap.GetProperty("request_counts").GetProperty("total").GetInt64());
        Assert.Equal(Deployment, atCap.Str("model"));
        Assert.Equal("failed", overCap.Str("status"));
        Assert.Contains("too_many_tasks", overCap.GetProperty("errors").GetProperty("data").EnumerateArray().Select(e => e.Str("code")));
    }

    [Fact]
    public async Task ABatchNamingADeploymentIsAnsweredUnderThatName()
    {
        using var http = sandbox.Host.CreateClient();
        var key = "azure-" + Guid.NewGuid().ToString("N");

        var done = await WaitForEndAsync(http, key, await SubmitAsync(http, key, AzureLines(3)), TimeSpan.FromSeconds(30));

        Assert.Equal("completed", done.Str("status"));
        using var request = Request(HttpMethod.Get, $"files/{done.Str("output_file_id")}/content", key);
        using var response = await http.SendAsync(request, Ct);
        var lines = (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line =>
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(Deployment, document.RootElement.GetProperty("response").GetProperty("body").Str("model"));
        });
    }

    [Fact]
    public async Task LinesWhoseUrlDoesNotMatchTheBatchEndpointFailWithUrlMismatchAndTheApiFaultKnobsApply()
    {
        using var http = sandbox.Host.CreateClient();
        var key = "azure-" + Guid.NewGuid().ToString("N");
        var lines = Jsonl.File(
            Jsonl.Chat("a", "Hello", model: Deployment, url: "/v1/chat/completions"),   // the v1 guide's form: accepted
            Jsonl.Chat("b", "Hello", model: Deployment, url: "/embeddings"));

        var mismatched = await WaitForEndAsync(http, key, await SubmitAsync(http, key, lines), TimeSpan.FromSeconds(30));
        await sandbox.Host.SetFaultsAsync(new { api_fail_next_500 = 1, api_fail_method = "GET", api_fail_path_prefix = "/openai/v1/batches" }, Ct);
        using var faultedRequest = Request(HttpMethod.Get, "batches", key);
        using var faulted = await http.SendAsync(faultedRequest, Ct);
        await sandbox.Host.SetFaultsAsync(new { }, Ct);

        Assert.Equal("failed", mismatched.Str("status"));
        var error = Assert.Single(mismatched.GetProperty("errors").GetProperty("data").EnumerateArray());
        Assert.Equal(("url_mismatch", 2L), (error.Str("code"), error.GetProperty("line").GetInt64()));
        Assert.Equal(500, (int)faulted.StatusCode);
    }
}
