using System.ClientModel;
using System.Collections.Concurrent;
using System.Text.Json;
using BatchAspire.Core.Faults;
using BatchAspire.Core.Providers;
using BatchAspire.Providers;
using BatchAspire.Providers.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI.Batch;

namespace BatchAspire.Providers.Tests;

#pragma warning disable OPENAI001 // the tests call the SDK's experimental Batch API directly to prove what the transport does

public sealed class ProviderClientTests : IAsyncLifetime
{
    private const string ApiKey = "sk-test-4f1d9c0b7e2a";

    private FakeProvider _provider = null!;
    private readonly ConcurrentQueue<(string Method, string Path, string Authorization, TimeSpan At)> _requests = new();
    private readonly List<IHost> _hosts = [];

    public async ValueTask InitializeAsync()
    {
        _provider = await FakeProvider.StartAsync();
        var inner = (Func<HttpContext, Task<bool>>?)null;
        _provider.Intercept = async context =>
        {
            _requests.Enqueue((context.Request.Method, context.Request.Path.Value ?? "", context.Request.Headers.Authorization.ToString(), _provider.Now));
            return Respond is { } respond && await respond(context);
        };
        _ = inner;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
            host.Dispose();
        }
        await _provider.DisposeAsync();
    }

    /// <summary>What the fake answers instead of its normal batch object, when set.</summary>
    private Func<HttpContext, Task<bool>>? Respond { get; set; }

    private Dictionary<string, string?> Settings(int maxRetries = 2) => new()
    {
        ["Provider:BaseUrl"] = _provider.BaseUrl.ToString(),
        ["Provider:ApiKey"] = ApiKey,
        ["Provider:MaxRetryAttempts"] = maxRetries.ToString(),
        ["Provider:RetryDelay"] = "00:00:00.050",
        ["Provider:AttemptTimeout"] = "00:00:05",
        ["Provider:TotalTimeout"] = "00:00:20",
    };

    private async Task<IHost> StartHostAsync(Dictionary<string, string?> settings, ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        // ServiceDefaults puts a standard resilience handler on every HttpClient: the provider client must replace
        // it, not stack a second retry layer on top.
        builder.AddServiceDefaults();
        builder.AddProviderClient();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(LogLevel.Trace);
        }
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync(TestContext.Current.CancellationToken);
        return host;
    }

    private static Task<bool> AnswerAsync(HttpContext context, int status, string? retryAfter = null, string message = "try later", string? code = null)
    {
        if (retryAfter is not null) context.Response.Headers.RetryAfter = retryAfter;
        return FakeProvider.WriteErrorAsync(context, status, message, code).ContinueWith(_ => true);
    }

    [Fact]
    public async Task GetBatchReadsStatusCountsUsageFileIdsAndErrorsFromTheRawJson()
    {
        Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""
                {"id":"batch_1","object":"batch","endpoint":"/v1/chat/completions","input_file_id":"file-in","completion_window":"24h",
                 "status":"failed","output_file_id":null,"error_file_id":"file-err","created_at":1700000000,
                 "request_counts":{"total":5,"completed":2,"failed":3},
                 "usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":10},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":150},
                 "errors":{"object":"list","data":[{"code":"token_limit_exceeded","message":"Enqueued token limit reached.","param":null,"line":null}]},
                 "metadata":{"batchaspire_job":"batch_j","batchaspire_chunk":"batch_j.0"}}
                """);
            return true;
        };
        var host = await StartHostAsync(Settings());

        var batch = await host.Services.GetRequiredService<ProviderBatches>().GetBatchAsync("batch_1", TestContext.Current.CancellationToken);

        Assert.Equal("failed", batch.Status);
        Assert.True(batch.IsTerminal);
        Assert.Equal(new ProviderRequestCounts(5, 2, 3), batch.RequestCounts);
        Assert.Equal(new ProviderUsage(100, 10, 50, 5, 150), batch.Usage);
        Assert.Null(batch.OutputFileId);
        Assert.Equal("file-err", batch.ErrorFileId);
        Assert.Equal("token_limit_exceeded", Assert.Single(batch.Errors).Code);
        Assert.Equal("batch_j.0", batch.Metadata["batchaspire_chunk"]);
        var request = Assert.Single(_requests);
        Assert.Equal(("GET", "/v1/batches/batch_1", $"Bearer {ApiKey}"), (request.Method, request.Path, request.Authorization));
    }

    [Fact]
    public async Task TransientGetFailuresAreRetriedByExactlyOneLayer()
    {
        Respond = context => AnswerAsync(context, 503, retryAfter: "0");
        var host = await StartHostAsync(Settings(maxRetries: 2));

        var failure = await Assert.ThrowsAsync<ProviderCallException>(() =>
            host.Services.GetRequiredService<ProviderBatches>().GetBatchAsync("batch_down", TestContext.Current.CancellationToken));

        Assert.Equal(503, failure.Status);
        Assert.Equal(FaultKind.ProviderTransient, FaultRule.Classify(failure));
        // One try and two retries. The SDK's own retries (3 by default) or a second handler would multiply this.
        Assert.Equal(3, _requests.Count);
    }

    [Fact]
    public async Task RetryHonoursTheProvidersRetryAfter()
    {
        var answered = 0;
        Respond = context => Interlocked.Increment(ref answered) == 1
            ? AnswerAsync(context, 429, retryAfter: "1", message: "Rate limit reached.", code: "rate_limit_exceeded")
            : Task.FromResult(false);
        _provider.SetBatch("batch_busy", "in_progress");
        var host = await StartHostAsync(Settings());

        var batch = await host.Services.GetRequiredService<ProviderBatches>().GetBatchAsync("batch_busy", TestContext.Current.CancellationToken);

        Assert.Equal("in_progress", batch.Status);
        var times = _requests.Select(r => r.At).ToList();
        Assert.Equal(2, times.Count);
        // RetryDelay is 50 ms here, so a wait of about a second can only come from Retry-After.
        Assert.InRange(times[1] - times[0], TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task BatchCreateIsNeverRetriedByTheTransport()
    {
        Respond = context => AnswerAsync(context, 503, retryAfter: "0");
        var host = await StartHostAsync(Settings(maxRetries: 3));
        var batches = host.Services.GetRequiredService<BatchClient>();
        var body = BinaryContent.Create(BinaryData.FromString("""{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}"""));

        var failure = await Assert.ThrowsAsync<ClientResultException>(() => batches.CreateBatchAsync(body, waitUntilCompleted: false));

        Assert.Equal(503, failure.Status);
        var request = Assert.Single(_requests);
        Assert.Equal(("POST", "/v1/batches"), (request.Method, request.Path));
    }

    [Fact]
    public async Task ProviderErrorsAndLogsNeverCarryTheApiKey()
    {
        Respond = context => AnswerAsync(context, 401, message: $"Incorrect API key provided: {ApiKey}.", code: "invalid_api_key");
        var logs = new CapturingLoggerProvider();
        var host = await StartHostAsync(Settings(), logs);

        var failure = await Assert.ThrowsAsync<ProviderCallException>(() =>
            host.Services.GetRequiredService<ProviderBatches>().GetBatchAsync("batch_1", TestContext.Current.CancellationToken));

        Assert.Equal(401, failure.Status);
        Assert.Equal("invalid_api_key", failure.ErrorCode);
        Assert.Equal(FaultKind.ProviderRejected, FaultRule.Classify(failure));
        Assert.DoesNotContain(ApiKey, failure.ToString());
        Assert.DoesNotContain("Incorrect API key", failure.ToString());
        Assert.Contains(logs.Lines, line => line.Contains("/v1/batches/batch_1"));   // the HttpClient did log the call
        Assert.DoesNotContain(logs.Lines, line => line.Contains(ApiKey));
        Assert.DoesNotContain(ApiKey, JsonSerializer.Serialize(host.Services.GetRequiredService<IConfiguration>()
            .AsEnumerable().Where(pair => pair.Key != "Provider:ApiKey")));
    }

    [Fact]
    public async Task TheSandboxFromServiceDiscoveryIsTheDefaultProvider()
    {
        _provider.SetBatch("batch_s", "validating");
        var host = await StartHostAsync(new Dictionary<string, string?>
        {
            ["services:sandbox:http:0"] = _provider.Root.ToString().TrimEnd('/'),
        });

        var batch = await host.Services.GetRequiredService<ProviderBatches>().GetBatchAsync("batch_s", TestContext.Current.CancellationToken);

        Assert.Equal("validating", batch.Status);
        var options = host.Services.GetRequiredService<IOptions<ProviderOptions>>().Value;
        Assert.True(options.IsSandbox);
        Assert.Equal(_provider.BaseUrl.ToString().TrimEnd('/'), options.Endpoint!.ToString().TrimEnd('/'));
        Assert.Equal("/v1/batches/batch_s", Assert.Single(_requests).Path);
    }

    [Fact]
    public async Task AnExplicitBaseUrlWithoutAnApiKeyFailsAtStart()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartHostAsync(new Dictionary<string, string?>
        {
            ["Provider:BaseUrl"] = "https://api.example.com/v1",
        }));

        Assert.Contains("Provider:ApiKey", failure.Message);
    }

    [Fact]
    public async Task NoProviderAtAllFailsAtStart()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => StartHostAsync([]));

        Assert.Contains("Provider:BaseUrl", failure.Message);
    }
}
