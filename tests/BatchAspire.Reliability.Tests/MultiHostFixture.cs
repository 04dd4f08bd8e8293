using System.Diagnostics;
using System.Net;
using BatchAspire.EndToEnd.Tests;
using BatchAspire.Reliability.Tests.Harness;
using BatchAspire.Testing;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// The system on several hosts of this machine, as <c>scripts/multihost.sh</c> runs it: an infrastructure host (Redis
/// with a replica and three Sentinels, a three-node RabbitMQ cluster, Azurite, the Sandbox) and two service hosts with a
/// replica each of intake, submitter, poller and results, every one a network namespace on one bridge. The test talks
/// to it from the script's client namespace (<see cref="NetworkNamespace"/>). Needs root and iproute2; without root
/// nothing is started and the tests say so.
/// </summary>
public sealed class MultiHostFixture : IAsyncLifetime
{
    public const string Tenant = "multihost";

    private static readonly string Script = Path.Combine(RepoPaths.Root, "scripts", "multihost.sh");

    private readonly string _settingsFile = Path.Combine(Path.GetTempPath(), $"batchaspire-multihost-{Guid.NewGuid():N}.env");

    /// <summary>Why the hosts cannot run here (not root, no <c>ip</c>), or null when they run.</summary>
    public string? Unavailable { get; private set; }

    /// <summary>How long <c>multihost.sh up</c> took.</summary>
    public TimeSpan StartTime { get; private set; }

    public NetworkNamespace Client { get; private set; } = null!;

    /// <summary>The intake as a client knows it: every service host's address, tried in order (svc1 first).</summary>
    public HttpClient Intake { get; private set; } = null!;

    public Uri IntakeBaseUrl { get; } = new("http://intake:5180/v1");

    public string ApiKey { get; private set; } = "";

    public SandboxAdmin Sandbox { get; private set; } = null!;

    /// <summary>Azurite's blob service on the infrastructure host.</summary>
    public IPEndPoint BlobAddress { get; private set; } = null!;

    public FaultLedger Ledger { get; } = new();

    /// <summary>Where the script keeps each process's log.</summary>
    public string LogDirectory { get; } = "/tmp/batchaspire-multihost/logs";

    internal IntakeSdk Sdk => new(IntakeBaseUrl, ApiKey, Intake);

    public async ValueTask InitializeAsync()
    {
        if (Environment.UserName != "root") { Unavailable = "needs root (ip netns)"; return; }
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/sbin/ip")) { Unavailable = "needs iproute2"; return; }

        // The reliability collection's short leases and timeouts, as environment variables of every service.
        await File.WriteAllLinesAsync(_settingsFile,
            [.. ReliabilityFixture.RecoverySettings.Select(s => s.Split('=', 2) is [var key, var value] ? $"{key.Replace(":", "__", StringComparison.Ordinal)}={value}" : s),
             .. ReliabilityFixture.WorkerProviderTimeouts.Select(t => $"{t.Key}={t.Value}")]);
        var started = Stopwatch.StartNew();
        try
        {
            await RunScriptAsync(TimeSpan.FromMinutes(6), "up", "--env", _settingsFile);
        }
        catch
        {
            // Nothing half-started is left behind when the hosts never came up; their logs are kept.
            KeepLogs();
            await RunScriptAsync(TimeSpan.FromMinutes(1), "down");
            throw;
        }
        StartTime = started.Elapsed;

        var settings = (await RunScriptAsync(TimeSpan.FromSeconds(20), "env"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        ApiKey = settings["MH_API_KEY"];
        Client = new NetworkNamespace(settings["MH_CLIENT_NAMESPACE"]);
        var intakes = settings["MH_INTAKE_URLS"].Split(',').Select(u => IPAddress.Parse(new Uri(u).Host)).ToList();
        Intake = Client.CreateHttpClient(IntakeBaseUrl.Host, intakes);
        var provider = Client.CreateHttpClient();
        provider.BaseAddress = new Uri(settings["MH_PROVIDER_URL"]);
        Sandbox = new SandboxAdmin(provider, settings["MH_PROVIDER_KEY"]);
        BlobAddress = IPEndPoint.Parse(settings["MH_BLOB_ADDRESS"]);
    }

    /// <summary>Runs <c>scripts/multihost.sh</c> with <paramref name="arguments"/>, bounded; its output, or a failure with it.</summary>
    public async Task<string> RunScriptAsync(TimeSpan bound, params string[] arguments)
    {
        var start = new ProcessStartInfo(Script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"multihost.sh {string.Join(' ', arguments)} took more than {bound}: {await error}");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"multihost.sh {string.Join(' ', arguments)} exited {process.ExitCode}: {await output} {await error}");
        return await output;
    }

    /// <summary>The Redis primary as the Sentinels name it (<c>ip:port</c>), or null while they cannot say.</summary>
    public async Task<string?> RedisPrimaryAsync()
    {
        try
        {
            return (await RunScriptAsync(TimeSpan.FromSeconds(10), "primary")).Trim() is { Length: > 0 } primary ? primary : null;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Copies every process's log beside the test assembly (multihost-logs), for whoever has to find out why the scenario failed.</summary>
    private void KeepLogs()
    {
        try
        {
            var target = Path.Combine(AppContext.BaseDirectory, "multihost-logs");
            Directory.CreateDirectory(target);
            foreach (var log in Directory.EnumerateFiles(LogDirectory)) File.Copy(log, Path.Combine(target, Path.GetFileName(log)), overwrite: true);
        }
        catch (IOException)
        {
            // No logs to keep: the run never got that far.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Unavailable is not null) return;
        Ledger.WriteReport("multihost");
        KeepLogs();
        Intake?.Dispose();
        await RunScriptAsync(TimeSpan.FromMinutes(1), "down");
        File.Delete(_settingsFile);
    }
}
