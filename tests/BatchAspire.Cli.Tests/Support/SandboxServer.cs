using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Cli.Tests.Support;

/// <summary>
/// The Sandbox on Kestrel at 127.0.0.1 and a free port, with its own data folder, shared by a test class: the tool
/// talks to it over a real socket, as to any OpenAI-compatible server. Each API key is its own empty project there.
/// </summary>
public sealed class SandboxServer : IAsyncLifetime
{
    private Factory? _factory;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-cli-sandbox-").FullName;

    public Uri BaseUrl { get; private set; } = null!;

    public ValueTask InitializeAsync()
    {
        var port = FreePort.Next();
        _factory = new Factory(new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = DataDirectory,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        _factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        _factory.StartServer();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/v1");
        return ValueTask.CompletedTask;
    }

    /// <summary>Replaces the Sandbox's fault knobs (docs/sandbox.md, "Fault knobs"; snake_case JSON).</summary>
    public async Task SetFaultsAsync(object faults, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseUrl, "/") };
        using var response = await http.PutAsJsonAsync("sandbox/faults", faults, ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>A fresh key, so a test sees only its own files and batches.</summary>
    public static string NewApiKey() => "sk-cli-" + Guid.NewGuid().ToString("N");

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
