using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using BatchAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Load;

/// <summary>Peak resident memory (MB) and CPU time used so far (s) of one process (or the replicas of one service).</summary>
internal readonly record struct ProcessUsage(double PeakMegabytes, double CpuSeconds);

/// <summary>The whole system, started from the AppHost on its own data folder (local Redis and RabbitMQ).</summary>
internal sealed class RunningSystem : IAsyncDisposable
{
    private static readonly string[] Services =
        [ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results, ResourceNames.Sandbox];

    private readonly DistributedApplication _app;
    private readonly string _dataDirectory;
    private readonly string _cacheConnection;
    private readonly string _cachePort;

    private RunningSystem(DistributedApplication app, string dataDirectory, string cacheConnection)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        _cacheConnection = cacheConnection;
        _cachePort = System.Text.RegularExpressions.Regex.Match(cacheConnection, @":(\d+)").Groups[1].Value;
    }

    public Uri IntakeBaseUrl => new(_app.GetEndpoint(ResourceNames.Intake, "http"), "v1");

    public Uri SandboxBaseUrl => new(_app.GetEndpoint(ResourceNames.Sandbox, "http"), "v1");

    public static async Task<RunningSystem> StartAsync(LoadOptions options)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("batchaspire-load-").FullName;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(
            ["Infra:Mode=process", $"Infra:DataDirectory={dataDirectory}", $"Submitter:MaxLinesPerChunk={options.LinesPerFile}", .. options.AppHostSettings]);
        // The figures are the output; resource logs and health-probe noise would bury them.
        builder.Services.AddLogging(logging => logging.ClearProviders());
        // The testing builder runs no dashboard but still hands every service its OTLP endpoint: each would spend
        // the run failing to export (tens of refused connections a second). Spans and metrics are still recorded.
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            project.Annotations.Add(new EnvironmentCallbackAnnotation(context => context.EnvironmentVariables.Remove("OTEL_EXPORTER_OTLP_ENDPOINT")));
            // For profiling with Linux perf: DOTNET_PerfMapEnabled=1 (and DOTNET_EnableWriteXorExecute=0, so perf can
            // resolve JIT-compiled frames) on the benchmark reach every service.
            foreach (var name in new[] { "DOTNET_PerfMapEnabled", "DOTNET_EnableWriteXorExecute" })
            {
                if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
                {
                    project.Annotations.Add(new EnvironmentCallbackAnnotation(name, () => value));
                }
            }
        }
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

    public string CacheConnection => _cacheConnection;

    /// <summary>
    /// Peak resident memory (VmHWM, MB) and CPU time so far (user + system, s) of each process of this run: the
    /// services found by their executable's name, Redis and RabbitMQ by name. A process belongs to this run when
    /// its environment or command line names this run's Redis connection string or data folder, so another run on
    /// the machine is never counted. Replicas of one service are summed for CPU and maxed for memory.
    /// </summary>
    public IReadOnlyDictionary<string, ProcessUsage> Census()
    {
        var usage = new Dictionary<string, ProcessUsage>();
        foreach (var pidDirectory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(pidDirectory), out _)) continue;
            try
            {
                var commandLine = File.ReadAllText(Path.Combine(pidDirectory, "cmdline"));
                var environment = File.ReadAllText(Path.Combine(pidDirectory, "environ"));
                // redis-server rewrites its command line to "redis-server 127.0.0.1:<port>": known by its port.
                var isOurRedis = commandLine.StartsWith("redis-server", StringComparison.Ordinal)
                    && commandLine.Contains($":{_cachePort}", StringComparison.Ordinal);
                if (!isOurRedis && !environment.Contains(_cacheConnection, StringComparison.Ordinal)
                    && !environment.Contains(_dataDirectory, StringComparison.Ordinal) && !commandLine.Contains(_dataDirectory, StringComparison.Ordinal))
                {
                    continue;
                }
                var executable = commandLine.Split('\0')[0];
                var name = Services.FirstOrDefault(s => executable.EndsWith($"/BatchAspire.{char.ToUpperInvariant(s[0])}{s[1..]}", StringComparison.Ordinal))
                    ?? (isOurRedis ? "redis"
                        : executable.EndsWith("beam.smp", StringComparison.Ordinal) ? "rabbitmq" : null);
                if (name is null) continue;
                var hwm = File.ReadLines(Path.Combine(pidDirectory, "status")).First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
                var megabytes = long.Parse(hwm.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
                // /proc/<pid>/stat: the command (field 2) is in parentheses and may hold spaces; utime and stime are
                // fields 14 and 15, in clock ticks of 1/100 s.
                var stat = File.ReadAllText(Path.Combine(pidDirectory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var cpuSeconds = (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
                var previous = usage.GetValueOrDefault(name);
                usage[name] = new ProcessUsage(Math.Max(previous.PeakMegabytes, megabytes), previous.CpuSeconds + cpuSeconds);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
            {
                // The process ended while we looked.
            }
        }
        return usage;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await _app.DisposeAsync();
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
