using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Testing;

/// <summary>
/// A minimal OpenAI-compatible provider on 127.0.0.1: answers GET /v1/batches/{id} with the batch object as
/// set by the test, and records every GET (batch id, replica header, start and end on one clock).
/// </summary>
public sealed class FakeProvider : IAsyncDisposable
{
    public const string ReplicaHeader = "x-test-replica";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, JsonBatch> _batches = new();
    private readonly ConcurrentQueue<ProviderGet> _gets = new();
    private readonly long _origin = Stopwatch.GetTimestamp();
    private readonly CancellationTokenSource _disposing = new();
    private volatile string? _hangReplica;

    private FakeProvider(WebApplication app) => _app = app;

    public Uri Root { get; private set; } = null!;

    /// <summary>The API base the SDK is given (root + /v1).</summary>
    public Uri BaseUrl => new(Root, "v1");

    /// <summary>Delay before every answer (the provider's latency).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Answers a request itself when it returns true (status codes, failures, POSTs).</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    public IReadOnlyCollection<ProviderGet> Gets => _gets;

    public TimeSpan Now => Stopwatch.GetElapsedTime(_origin);

    /// <summary>GETs from this replica never answer (until the request is aborted): a replica stuck mid-poll.</summary>
    public string? HangReplica { get => _hangReplica; set => _hangReplica = value; }

    public static async Task<FakeProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var provider = new FakeProvider(app);
        app.Map("/{**path}", provider.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider.Root = new Uri(address.TrimEnd('/') + "/");
        return provider;
    }

    public void SetBatch(string id, string status, long total = 10, long completed = 0, long failed = 0,
        string? outputFileId = null, string? errorFileId = null, bool withUsage = false) =>
        _batches[id] = new JsonBatch(id, status, total, completed, failed, outputFileId, errorFileId, withUsage);

    public IEnumerable<ProviderGet> GetsOf(string batchId) => _gets.Where(g => g.BatchId == batchId);

    private async Task HandleAsync(HttpContext context)
    {
        var started = Now;
        var path = context.Request.Path.Value ?? "";
        if (Intercept is { } intercept && await intercept(context)) return;

        if (!HttpMethods.IsGet(context.Request.Method) || !path.StartsWith("/v1/batches/", StringComparison.Ordinal))
        {
            await WriteErrorAsync(context, 404, "Not found.");
            return;
        }

        var id = path["/v1/batches/".Length..];
        var replica = context.Request.Headers[ReplicaHeader].ToString();
        var get = new ProviderGet(id, replica, started);
        _gets.Enqueue(get);

        if (replica.Length > 0 && replica == _hangReplica)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _disposing.Token);
            try { await Task.Delay(Timeout.Infinite, linked.Token); } catch (OperationCanceledException) { }
            get.Hung = true;
            return;
        }
        if (Latency > TimeSpan.Zero) await Task.Delay(Latency);

        if (!_batches.TryGetValue(id, out var batch))
        {
            await WriteErrorAsync(context, 404, $"No batch found with id '{id}'.");
            return;
        }
        get.AnsweredStatus = batch.Status;
        get.Ended = Now;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(batch.ToJson());
    }

    public static async Task WriteErrorAsync(HttpContext context, int status, string message, string? code = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            error = new { message, type = "invalid_request_error", param = (string?)null, code },
        }));
    }

    public async ValueTask DisposeAsync()
    {
        _disposing.Cancel();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _disposing.Dispose();
    }

    private sealed record JsonBatch(string Id, string Status, long Total, long Completed, long Failed,
        string? OutputFileId, string? ErrorFileId, bool WithUsage)
    {
        public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = Id,
            ["object"] = "batch",
            ["endpoint"] = "/v1/chat/completions",
            ["errors"] = null,
            ["input_file_id"] = "file-input",
            ["completion_window"] = "24h",
            ["status"] = Status,
            ["output_file_id"] = OutputFileId,
            ["error_file_id"] = ErrorFileId,
            ["created_at"] = 1_700_000_000,
            ["in_progress_at"] = null,
            ["expires_at"] = 1_700_086_400,
            ["request_counts"] = new { total = Total, completed = Completed, failed = Failed },
            ["usage"] = WithUsage
                ? new { input_tokens = 100, input_tokens_details = new { cached_tokens = 10 }, output_tokens = 50,
                        output_tokens_details = new { reasoning_tokens = 5 }, total_tokens = 150 }
                : null,
            ["metadata"] = new Dictionary<string, string> { ["batchaspire_chunk"] = Id },
        });
    }
}

/// <summary>One GET the provider saw.</summary>
public sealed class ProviderGet(string batchId, string replica, TimeSpan started)
{
    public string BatchId { get; } = batchId;
    public string Replica { get; } = replica;
    public TimeSpan Started { get; } = started;
    public TimeSpan? Ended { get; set; }
    public string? AnsweredStatus { get; set; }
    public bool Hung { get; set; }
}
