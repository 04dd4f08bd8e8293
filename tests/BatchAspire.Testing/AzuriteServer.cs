using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Testing;

/// <summary>
/// A throwaway Azurite blob service (the Azure Storage emulator, from <c>tools/azurite</c>) on a free loopback port
/// with its data in a temp folder. <see cref="StopAsync"/> kills it as an outage would and <see cref="StartAsync()"/>
/// brings it back on the same port over the same data.
/// </summary>
public sealed class AzuriteServer : IAsyncDisposable
{
    /// <summary>Azurite's well-known development account; the key is public, documented by Microsoft.</summary>
    public const string AccountName = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    private readonly string _entry;
    private readonly string _directory;
    private readonly int? _memoryLimitMegabytes;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private AzuriteServer(string entry, string directory, int port, int? memoryLimitMegabytes)
    {
        _entry = entry;
        _directory = directory;
        _memoryLimitMegabytes = memoryLimitMegabytes;
        Port = port;
    }

    /// <summary><c>tools/azurite</c> in this checkout: the one Azurite install, shared with the AppHost.</summary>
    public static string InstallDirectory { get; } = Path.Combine(
        typeof(AzuriteServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!,
        "tools", "azurite");

    public int Port { get; }

    /// <summary>Where Azurite keeps blobs and metadata (empty with in-memory persistence).</summary>
    public string DataDirectory => _directory;

    public string ConnectionString => DevelopmentConnectionString(Port);

    /// <summary>Output Azurite printed (errors only: it runs with <c>--silent</c>), for failure messages.</summary>
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static string DevelopmentConnectionString(int port) =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AccountName};";

    /// <summary>
    /// Starts Azurite. With <paramref name="memoryLimitMegabytes"/> it keeps blobs in memory up to that size and then
    /// refuses more (how a test meets a full store without filling a disk).
    /// </summary>
    public static async Task<AzuriteServer> StartAsync(int? memoryLimitMegabytes = null, CancellationToken ct = default)
    {
        var entry = await EnsureInstalledAsync(ct);
        var server = new AzuriteServer(entry, Directory.CreateTempSubdirectory("batchaspire-azurite-").FullName, FreePort.Next(), memoryLimitMegabytes);
        try
        {
            await server.StartAsync(ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts it again after <see cref="StopAsync"/>, on the same port and data.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_process is { HasExited: false }) throw new InvalidOperationException("Azurite is already running.");
        var start = new ProcessStartInfo("node")
        {
            ArgumentList =
            {
                _entry, "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(),
                // The SDK may speak a newer API version than this Azurite knows; the calls the store makes are old.
                "--skipApiVersionCheck", "--loose", "--silent",
                // Azurite reports telemetry by default; a test has no business calling out.
                "--disableTelemetry",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (_memoryLimitMegabytes is not { } limit)
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(_directory);
        }
        else
        {
            // Azurite refuses --location together with in-memory persistence.
            start.ArgumentList.Add("--inMemoryPersistence");
            start.ArgumentList.Add("--extentMemoryLimit");
            start.ArgumentList.Add(limit.ToString());
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                // Any HTTP answer means the blob service serves requests (unauthenticated, this one is a 403).
                using var _ = await http.GetAsync($"http://127.0.0.1:{Port}/{AccountName}?comp=list", ct);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"Azurite did not answer on port {Port}.\n{Output}", e);
                }
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>
    /// Stops it with SIGTERM, as a service manager would: Azurite saves its metadata on the way out. A kill -9 would
    /// lose what it wrote in the last few seconds (its metadata database is saved every 5 s), containers included.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            if (SendSignal(_process.Id, SigTerm) != 0) _process.Kill(entireProcessTree: true);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
        _process = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>
    /// The blob service's entry script, from the package's own <c>bin</c> map; installs the locked packages first when a
    /// clean clone has none (scripts/test.sh installs them up front).
    /// </summary>
    private static async Task<string> EnsureInstalledAsync(CancellationToken ct)
    {
        var package = Path.Combine(InstallDirectory, "node_modules", "azurite", "package.json");
        await InstallGate.WaitAsync(ct);
        try
        {
            if (!File.Exists(package))
            {
                using var npm = Process.Start(new ProcessStartInfo("npm")
                {
                    ArgumentList = { "ci", "--prefix", InstallDirectory, "--no-audit", "--no-fund", "--loglevel=error" },
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                }) ?? throw new InvalidOperationException("npm did not start");
                var stdout = npm.StandardOutput.ReadToEndAsync(ct);
                var stderr = npm.StandardError.ReadToEndAsync(ct);
                await npm.WaitForExitAsync(ct);
                if (npm.ExitCode != 0)
                {
                    throw new InvalidOperationException($"npm ci --prefix {InstallDirectory} failed ({npm.ExitCode})\n{await stdout}\n{await stderr}");
                }
            }
        }
        finally
        {
            InstallGate.Release();
        }
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(package, ct));
        var relative = json.RootElement.GetProperty("bin").GetProperty("azurite-blob").GetString()!;
        return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(package)!, relative));
    }
}
