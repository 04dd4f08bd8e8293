using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using BatchAspire.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Sandbox.Tests;

/// <summary>The proxy executor against a small OpenAI-compatible chat server started by the test.</summary>
public sealed class ProxyExecutorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ProxyForwardsLinesWithBoundedConcurrencyRetriesAndErrorLines()
    {
        await using var upstream = await FakeChatServer.StartAsync();
        await using var host = SandboxHost.Start(new Dictionary<string, string?>
        {
            ["Sandbox:Executor"] = "proxy",
            ["Sandbox:Proxy:BaseUrl"] = upstream.BaseUrl + "v1",
            ["Sandbox:Proxy:ApiKey"] = "upstream-key",
            ["Sandbox:Proxy:MaxConcurrency"] = "3",
            ["Sandbox:Proxy:MaxAttempts"] = "3",
            ["Sandbox:Proxy:RetryBaseDelayMs"] = "10",
        });
        using var api = await OpenAIApi.CreateAsync(new SandboxTarget(host), Ct);
        var contents = Enumerable.Range(0, 25).Select(i => $"hello {i}")
            .Concat(["fail-400 a", "fail-400 b", "fail-500 a", "fail-500 b", "flaky a"]).ToList();
        var batch = await api.SubmitAsync(Jsonl.File(contents.Select((c, i) => Jsonl.Chat($"line-{i}", c))), ct: Ct);

        var done = await api.WaitForAsync(batch.Str("id"), Ct);

        Assert.Equal("completed", done.Str("status"));
        Assert.Equal((30L, 26L, 4L), done.Counts());
        var output = await api.ResultLinesAsync(done.Str("output_file_id"), Ct);
        Assert.All(output, line =>
        {
            var content = line.GetProperty("response").GetProperty("body").GetProperty("choices")[0].GetProperty("message").Str("content");
            Assert.StartsWith("upstream says: ", content);
        });
        Assert.Contains(output, l => l.Str("custom_id") == "line-29");   // the flaky line succeeded on its retry
        var errors = await api.ResultLinesAsync(done.Str("error_file_id"), Ct);
        var statuses = errors.ToDictionary(l => l.Str("custom_id"), l => l.GetProperty("response").Int("status_code"));
        Assert.Equal(new Dictionary<string, long> { ["line-25"] = 400, ["line-26"] = 400, ["line-27"] = 500, ["line-28"] = 500 }, statuses);
        var body400 = errors.First(l => l.Str("custom_id") == "line-25").GetProperty("response").GetProperty("body").GetProperty("error");
        Assert.Equal("upstream refused: fail-400 a", body400.Str("message"));

        Assert.Equal(1, upstream.Attempts["fail-400 a"]);   // a 400 is final
        Assert.Equal(3, upstream.Attempts["fail-500 a"]);   // a 500 is retried up to MaxAttempts
        Assert.Equal(2, upstream.Attempts["flaky a"]);
        Assert.InRange(upstream.MaxInFlight, 2, 3);
        Assert.Equal("Bearer upstream-key", upstream.LastAuthorization);
        Assert.Equal(26 * FakeChatServer.PromptTokens, done.GetProperty("usage").Int("input_tokens"));
    }

    /// <summary>An OpenAI-compatible /v1/chat/completions that answers slowly, counts in-flight calls and fails on cue.</summary>
    private sealed class FakeChatServer : IAsyncDisposable
    {
        public const int PromptTokens = 7;
        private readonly WebApplication _app;
        private int _inFlight;
        private int _maxInFlight;

        private FakeChatServer(WebApplication app, Uri baseUrl)
        {
            _app = app;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }
        public ConcurrentDictionary<string, int> Attempts { get; } = new();
        public int MaxInFlight => Volatile.Read(ref _maxInFlight);
        public string? LastAuthorization { get; private set; }

        public static async Task<FakeChatServer> StartAsync()
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, port));
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var server = new FakeChatServer(app, new Uri($"http://127.0.0.1:{port}/"));
            app.MapPost("/v1/chat/completions", server.CompleteAsync);
            await app.StartAsync();
            return server;
        }

        private async Task CompleteAsync(HttpContext context)
        {
            var now = Interlocked.Increment(ref _inFlight);
            int max;
            while (now > (max = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max) { }
            try
            {
                LastAuthorization = context.Request.Headers.Authorization.ToString();
                using var request = await JsonDocument.ParseAsync(context.Request.Body);
                var content = request.RootElement.GetProperty("messages")[1].GetProperty("content").GetString()!;
                var attempt = Attempts.AddOrUpdate(content, 1, (_, n) => n + 1);
                await Task.Delay(40);
                context.Response.ContentType = "application/json";
                if (content.StartsWith("fail-", StringComparison.Ordinal) || content.StartsWith("flaky", StringComparison.Ordinal) && attempt == 1)
                {
                    context.Response.StatusCode = content.StartsWith("fail-400", StringComparison.Ordinal) ? 400
                        : content.StartsWith("flaky", StringComparison.Ordinal) ? 429 : 500;
                    if (context.Response.StatusCode == 429) context.Response.Headers["retry-after-ms"] = "10";
                    await context.Response.WriteAsync(JsonSerializer.Serialize(new
                    {
                        error = new { message = $"upstream refused: {content}", type = "invalid_request_error", param = (string?)null, code = (string?)null },
                    }));
                    return;
                }
                // Pretty-printed on purpose: the Sandbox must still write one line per result.
                await context.Response.WriteAsync(JsonSerializer.Serialize(new
                {
                    id = "chatcmpl-upstream",
                    @object = "chat.completion",
                    created = 1,
                    model = request.RootElement.GetProperty("model").GetString(),
                    choices = new[] { new { index = 0, message = new { role = "assistant", content = "upstream says: " + content }, finish_reason = "stop" } },
                    usage = new { prompt_tokens = PromptTokens, completion_tokens = 3, total_tokens = PromptTokens + 3 },
                }, new JsonSerializerOptions { WriteIndented = true }));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
