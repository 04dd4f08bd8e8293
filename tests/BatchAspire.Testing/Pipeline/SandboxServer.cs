extern alias sandbox;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using sandbox::BatchAspire.Sandbox.Faults;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Testing.Pipeline;

/// <summary>
/// The real Sandbox provider in this process, on Kestrel at 127.0.0.1 and a free port (the pipeline reaches it over
/// a socket, through the OpenAI SDK, like a real provider), with its own data folder deleted on dispose.
/// </summary>
public sealed class SandboxServer : IAsyncDisposable
{
    private readonly Factory _factory;

    private SandboxServer(Factory factory, int port, string dataDirectory)
    {
        _factory = factory;
        DataDirectory = dataDirectory;
        RootUrl = new Uri($"http://127.0.0.1:{port}/");
        BaseUrl = new Uri(RootUrl, "v1");
    }

    /// <summary>The key the pipeline uses (each key is its own Sandbox project).</summary>
    public const string ApiKey = "sk-test-workers";

    public Uri RootUrl { get; }

    /// <summary>The API base the SDK is given (root + /v1).</summary>
    public Uri BaseUrl { get; }

    public string DataDirectory { get; }

    public IServiceProvider Services => _factory.Services;

    public static SandboxServer Start()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("batchaspire-workers-sandbox-").FullName;
        var port = FreePort.Next();
        var factory = new Factory(new Dictionary<string, string?>
        {
            ["Sandbox:DataDirectory"] = dataDirectory,
            ["Sandbox:CheckpointIntervalMs"] = "100",
            ["Sandbox:MaxConcurrentBatches"] = "8",
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, port));
        factory.StartServer();
        return new SandboxServer(factory, port, dataDirectory);
    }

    /// <summary>Replaces the fault knobs (as <c>PUT /sandbox/faults</c> does).</summary>
    public void SetFaults(Action<FaultSettings> configure)
    {
        var settings = new FaultSettings();
        configure(settings);
        Services.GetRequiredService<FaultState>().Replace(settings);
    }

    /// <summary>The provider batches of one job, as the provider lists them (every create the pipeline made for it).</summary>
    public async Task<IReadOnlyList<JsonElement>> BatchesOfJobAsync(string jobId, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = RootUrl };
        // Each API key is its own Sandbox project: list as the pipeline's key.
        http.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        var found = new List<JsonElement>();
        string? after = null;
        for (var page = 0; page < 100; page++)
        {
            var url = "v1/batches?limit=100" + (after is null ? "" : "&after=" + after);
            using var document = JsonDocument.Parse(await http.GetStringAsync(url, ct));
            foreach (var batch in document.RootElement.GetProperty("data").EnumerateArray())
            {
                if (batch.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object &&
                    metadata.TryGetProperty("batchaspire_job", out var job) && job.GetString() == jobId)
                {
                    found.Add(batch.Clone());
                }
            }
            if (!document.RootElement.GetProperty("has_more").GetBoolean()) break;
            after = document.RootElement.GetProperty("last_id").GetString();
        }
        return found;
    }

    /// <summary>Whether the provider still has the file (as the pipeline's key sees it).</summary>
    public async Task<bool> HasFileAsync(string fileId, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = RootUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", ApiKey);
        using var response = await http.GetAsync("v1/files/" + fileId, ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return false;
        response.EnsureSuccessStatusCode();
        return true;
    }

    public async Task<string> GetStatsAsync(CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = RootUrl };
        return await http.GetStringAsync("sandbox/stats", ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }

    private sealed class Factory(Dictionary<string, string?> settings) : WebApplicationFactory<sandbox::Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.ConfigureLogging(logging => logging.ClearProviders());
        }
    }
}
