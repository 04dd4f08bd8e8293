using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace BatchAspire.Poller.Bench;

/// <summary>
/// A provider on loopback that answers GET /v1/batches/{id} after a fixed latency with an in-progress batch,
/// counts GETs, and flags a double poll: two GETs of one batch closer than half the poll interval (after a
/// poll the chunk is next due one interval later, so two such GETs served the same due time).
/// </summary>
internal sealed class SlowProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeSpan _latency;
    private readonly long _doubleWithinTicks;
    private readonly ConcurrentDictionary<string, long> _lastStart = new();
    private long _gets;
    private long _doubles;

    private SlowProvider(WebApplication app, TimeSpan latency, TimeSpan interval)
    {
        _app = app;
        _latency = latency;
        _doubleWithinTicks = (long)(interval.TotalSeconds / 2 * Stopwatch.Frequency);
    }

    public Uri BaseUrl { get; private set; } = null!;
    public long Gets => Interlocked.Read(ref _gets);
    public long DoublePolls => Interlocked.Read(ref _doubles);

    public static async Task<SlowProvider> StartAsync(TimeSpan latency, TimeSpan interval)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var provider = new SlowProvider(app, latency, interval);
        app.MapGet("/v1/batches/{id}", provider.GetAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        provider.BaseUrl = new Uri(address.TrimEnd('/') + "/v1");
        return provider;
    }

    /// <summary>Forget earlier GETs: each run starts with every chunk due.</summary>
    public void Reset() => _lastStart.Clear();

    private async Task GetAsync(string id, HttpContext context)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _gets);
        var previous = _lastStart.GetOrAdd(id, long.MinValue);
        _lastStart[id] = now;
        if (previous != long.MinValue && now - previous < _doubleWithinTicks) Interlocked.Increment(ref _doubles);

        await Task.Delay(_latency);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            $$"""{"id":"{{id}}","object":"batch","endpoint":"/v1/chat/completions","errors":null,"input_file_id":"file-in","completion_window":"24h","status":"in_progress","output_file_id":null,"error_file_id":null,"created_at":1700000000,"in_progress_at":1700000003,"expires_at":1700086400,"request_counts":{"total":50000,"completed":1200,"failed":0},"usage":null,"metadata":null}""");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
