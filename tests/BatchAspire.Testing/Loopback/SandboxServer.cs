using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Testing.Loopback;

/// <summary>
/// The Sandbox on Kestrel at 127.0.0.1 and a free port, with its own data folder, shared by a test class: the code under
/// test talks to it over a real socket, as to any provider. Each API key is its own empty project there.
/// </summary>
public sealed class SandboxServer : IAsyncLifetime
{
    private Factory? _factory;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-loopback-sandbox-").FullName;

    public Uri RootUrl { get; private set; } = null!;

    /// <summary>The OpenAI API base (root + /v1).</summary>
    public Uri BaseUrl => new(RootUrl, "v1");

    public ValueTask InitializeAsync()
    {
        var port = FreePort.Next();
        _factory = new Factory(new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = DataDirectory,
            ["Sandbox:CheckpointIntervalMs"] = "100",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        _factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        _factory.StartServer();
        RootUrl = new Uri($"http://127.0.0.1:{port}/");
        return ValueTask.CompletedTask;
    }

    /// <summary>A fresh key, so a test sees only its own files and batches.</summary>
    public static string NewApiKey() => "sk-test-" + Guid.NewGuid().ToString("N");

    /// <summary>Replaces the Sandbox's fault knobs (docs/sandbox.md, "Fault knobs"; snake_case JSON).</summary>
    public async Task SetFaultsAsync(object faults, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = RootUrl };
        using var response = await http.PutAsJsonAsync("sandbox/faults", faults, ct);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }

    private sealed class Factory(Dictionary<string, string?> settings) : WebApplicationFactory<global::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        }
    }
}
