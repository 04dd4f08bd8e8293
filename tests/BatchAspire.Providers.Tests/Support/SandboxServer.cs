using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Providers.Tests.Support;

/// <summary>A Sandbox on Kestrel at 127.0.0.1 and a free port with its own data folder, shared by a test class.</summary>
public sealed class SandboxServer : IAsyncLifetime
{
    private Factory _factory = null!;
    private string _dataDirectory = null!;

    public Uri RootUrl { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        _dataDirectory = Directory.CreateTempSubdirectory("batchaspire-providers-sandbox-").FullName;
        var port = FreePort.Next();
        _factory = new Factory(new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = _dataDirectory,
            ["Sandbox:CheckpointIntervalMs"] = "100",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        _factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        _factory.StartServer();
        RootUrl = new Uri($"http://127.0.0.1:{port}/");
        return ValueTask.CompletedTask;
    }

    /// <summary>Replaces the Sandbox's fault knobs (snake_case JSON, docs/sandbox.md).</summary>
    public async Task SetFaultsAsync(object faults, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = RootUrl };
        using var response = await http.PutAsJsonAsync("sandbox/faults", faults, ct);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
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
