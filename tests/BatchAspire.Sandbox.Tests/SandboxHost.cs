using System.Net;
using System.Net.Http.Json;
using BatchAspire.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Sandbox.Tests;

/// <summary>
/// A Sandbox on Kestrel at 127.0.0.1 and a free port, with its own data folder (deleted on dispose
/// unless the caller owns it), so tests talk to it over a real socket like any SDK would.
/// </summary>
public sealed class SandboxHost : IAsyncDisposable
{
    private readonly Factory _factory;
    private readonly bool _ownsDirectory;

    private SandboxHost(Factory factory, int port, string dataDirectory, bool ownsDirectory)
    {
        _factory = factory;
        _ownsDirectory = ownsDirectory;
        DataDirectory = dataDirectory;
        RootUrl = new Uri($"http://127.0.0.1:{port}/");
        BaseUrl = new Uri(RootUrl, "v1");
    }

    public Uri RootUrl { get; }
    public Uri BaseUrl { get; }
    public string DataDirectory { get; }
    public IServiceProvider Services => _factory.Services;

    public static SandboxHost Start(IReadOnlyDictionary<string, string?>? settings = null, string? dataDirectory = null)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("batchaspire-sandbox-test-").FullName;
        var all = new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = dataDirectory,
            ["Sandbox:CheckpointIntervalMs"] = "100",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;
        var port = FreePort.Next();
        var factory = new Factory(all);
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        return new SandboxHost(factory, port, dataDirectory, owns);
    }

    public HttpClient CreateClient() => new() { BaseAddress = RootUrl, Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Replaces the fault knobs through the admin endpoint (snake_case JSON, as documented).</summary>
    public async Task SetFaultsAsync(object faults, CancellationToken ct)
    {
        using var http = CreateClient();
        using var response = await http.PutAsJsonAsync("sandbox/faults", faults, ct);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (_ownsDirectory)
        {
            try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
        }
    }

    private sealed class Factory(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        }
    }
}

/// <summary>The Sandbox as a conformance target: a fresh bearer token is a fresh, empty project.</summary>
public sealed class SandboxTarget(SandboxHost host, string? fixedApiKey = null) : ConformanceTarget, IProviderControl
{
    public SandboxHost Host => host;

    public override Uri BaseUrl => host.BaseUrl;

    public override Task<string> NewApiKeyAsync(CancellationToken ct) =>
        Task.FromResult(fixedApiKey ?? "sk-sandbox-" + Guid.NewGuid().ToString("N"));

    public Task<IReadOnlyDictionary<string, string>> SlowBatchMetadataAsync(TimeSpan validationDelay, TimeSpan perLine, CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>
        {
            ["sandbox_validation_delay_ms"] = ((long)validationDelay.TotalMilliseconds).ToString(),
            ["sandbox_line_latency_ms"] = ((long)perLine.TotalMilliseconds).ToString(),
        });

    public Task<IReadOnlyDictionary<string, string>> ExpiringBatchMetadataAsync(TimeSpan after, TimeSpan perLine, CancellationToken ct) =>
        Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string>
        {
            ["sandbox_expire_after_seconds"] = after.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["sandbox_line_latency_ms"] = ((long)perLine.TotalMilliseconds).ToString(),
        });

    public Task RateLimitNextCallsAsync(string method, string pathPrefix, int count, int retryAfterSeconds, CancellationToken ct) =>
        host.SetFaultsAsync(new
        {
            api_fail_next_429 = count,
            api_fail_method = method,
            api_fail_path_prefix = pathPrefix,
            retry_after_seconds = retryAfterSeconds,
        }, ct);
}

/// <summary>One Sandbox shared by a test class.</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public SandboxHost Host { get; private set; } = null!;
    public SandboxTarget Target { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        Host = SandboxHost.Start();
        Target = new SandboxTarget(Host);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
