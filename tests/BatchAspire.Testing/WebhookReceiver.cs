using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Testing;

/// <summary>
/// A webhook receiver on a loopback port chosen up front, so it can be down (not listening) and come up later on the
/// same URL. It keeps every request it read (headers and the raw body) and answers with <see cref="Answer"/>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Request(string Path, IReadOnlyDictionary<string, string> Headers, string Body, int Status);

    private readonly ConcurrentQueue<Request> _requests = new();
    private WebApplication? _app;

    public int Port { get; } = FreePort.Next();

    /// <summary>The status answered; a null answer holds the request open until the sender gives up.</summary>
    public Func<int?> Answer { get; set; } = () => 200;

    public IReadOnlyList<Request> Requests => [.. _requests];

    public IReadOnlyList<Request> Accepted => [.. _requests.Where(r => r.Status is >= 200 and < 300)];

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}/{path}");

    public static async Task<WebhookReceiver> StartAsync(CancellationToken ct = default)
    {
        var receiver = new WebhookReceiver();
        await receiver.UpAsync(ct);
        return receiver;
    }

    public async Task UpAsync(CancellationToken ct = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var status = Answer();
            _requests.Enqueue(new Request(path, headers, body, status ?? 0));
            if (status is null) await Task.Delay(Timeout.Infinite, context.RequestAborted);
            return Microsoft.AspNetCore.Http.Results.StatusCode(status!.Value);
        });
        await app.StartAsync(ct);
        _app = app;
    }

    public async Task DownAsync()
    {
        if (_app is null) return;
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _app = null;
    }

    public async ValueTask DisposeAsync() => await DownAsync();
}
