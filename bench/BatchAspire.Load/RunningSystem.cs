using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using BatchAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Load;

/// <summary>The whole system, started from the AppHost on its own data folder (local Redis and RabbitMQ).</summary>
internal sealed class RunningSystem : IAsyncDisposable
{
    private static readonly string[] Services =
        [ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results, ResourceNames.Sandbox];

    private readonly DistributedApplication _app;
    private readonly string _dataDirectory;
    private readonly string _cacheConnection;

    private RunningSystem(DistributedApplication app, string dataDirectory, string cacheConnection)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        _cacheConnection = cacheConnection;
    }

    public Uri IntakeBaseUrl => new(_app.GetEndpoint(ResourceNames.Intake, "http"), "v1");

    public Uri SandboxBaseUrl => new(_app.GetEndpoint(ResourceNames.Sandbox, "http"), "v1");

    public static async Task<RunningSystem> StartAsync(LoadOptions options)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("batchaspire-load-").FullName;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(
            ["Infra:Mode=process", $"Infra:DataDirectory={dataDirectory}", $"Submitter:MaxLinesPerChunk={options.LinesPerFile}"]);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        var app = await builder.BuildAsync();
        await app.StartAsync().WaitAsync(TimeSpan.FromMinutes(3));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        foreach (var resource in Services)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }
        var cache = await app.GetConnectionStringAsync(ResourceNames.Cache) ?? throw new InvalidOperationException("no cache connection string");
        return new RunningSystem(app, dataDirectory, cache);
    }

    /// <summary>
    /// Peak resident memory (VmHWM) of each service's process, in MB: found by the executable's name and,
    /// so another run on the machine is never counted, by this run's Redis connection string (or data folder).
    /// </summary>
    public IReadOnlyDictionary<string, double> PeakMemoryByService()
    {
        var peaks = new Dictionary<string, double>();
        foreach (var pidDirectory in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(pidDirectory, "cmdline")).Split('\0')[0];
                var environment = File.ReadAllText(Path.Combine(pidDirectory, "environ"));
                if (!environment.Contains(_cacheConnection, StringComparison.Ordinal) && !environment.Contains(_dataDirectory, StringComparison.Ordinal))
                {
                    continue;
                }
                var service = Services.FirstOrDefault(s => commandLine.EndsWith($"/BatchAspire.{char.ToUpperInvariant(s[0])}{s[1..]}", StringComparison.Ordinal));
                if (service is null)
                {
                    continue;
                }
                var hwm = File.ReadLines(Path.Combine(pidDirectory, "status")).First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                var megabytes = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
                peaks[service] = Math.Max(peaks.GetValueOrDefault(service), megabytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The process ended while we looked.
            }
        }
        return peaks;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await _app.DisposeAsync();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
