using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BatchAspire.Storage;
using BatchAspire.Storage.FileSystem;
using BatchAspire.Testing;

namespace BatchAspire.Intake.Bench;

/// <summary>One upload: its throughput, and how far the server's peak RSS rose above its RSS before it.</summary>
internal sealed record Measurement(long Bytes, double Seconds, long PeakGrowthBytes, double CpuSeconds, double ClientCpuSeconds)
{
    /// <summary>CPU time this process (the client: generating and sending the file) spent per MB.</summary>
    public double ClientCpuMillisecondsPerMegabyte => ClientCpuSeconds * 1000 / (Bytes / 1e6);

    /// <summary>CPU time the server (and, for the intake, its redis-server) spent per MB: independent of other load.</summary>
    public double CpuMillisecondsPerMegabyte => CpuSeconds * 1000 / (Bytes / 1e6);

    public double MegabytesPerSecond => Bytes / 1e6 / Seconds;

    public double PeakGrowthMegabytes => PeakGrowthBytes / (1024.0 * 1024.0);

    /// <summary>Median throughput; the worst memory growth seen (memory is judged on its worst case).</summary>
    public static Measurement Median(IReadOnlyList<Measurement> all)
    {
        var byTime = all.OrderBy(m => m.Seconds).ToList();
        var byCpu = all.OrderBy(m => m.CpuSeconds).ToList();
        var byClientCpu = all.OrderBy(m => m.ClientCpuSeconds).ToList();
        return byTime[byTime.Count / 2] with
        {
            PeakGrowthBytes = all.Max(m => m.PeakGrowthBytes),
            CpuSeconds = byCpu[byCpu.Count / 2].CpuSeconds,
            ClientCpuSeconds = byClientCpu[byClientCpu.Count / 2].ClientCpuSeconds,
        };
    }
}

internal sealed record Server(string Name, Process Process, Uri Upload, string? ApiKey);

/// <summary>
/// Starts a redis-server, the intake (its own process, Production settings, a bench API key, the filesystem blob
/// store in a folder of its own, durable as by default) and the discard-only baseline server (this executable
/// again), all on loopback ports, and POSTs uploads to them.
/// </summary>
internal sealed class UploadBench : IAsyncDisposable
{
    private const string ApiKey = "bench-key";
    private readonly LocalRedisServer _redis;
    private readonly TempBlobStore _blobs;
    private int _redisPid;
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(10) };

    private UploadBench(LocalRedisServer redis, TempBlobStore blobs, Server intake, Server baseline)
    {
        _redis = redis;
        _blobs = blobs;
        Intake = intake;
        Baseline = baseline;
    }

    public Server Intake { get; }

    public Server Baseline { get; }

    public static async Task<UploadBench> StartAsync()
    {
        var redis = await LocalRedisServer.StartAsync();
        var blobs = new TempBlobStore();
        var intakeDll = typeof(UploadBench).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "IntakeAssembly").Value!;
        if (!File.Exists(intakeDll)) throw new FileNotFoundException("Build the intake first (dotnet run builds it with the bench).", intakeDll);

        var intakePort = FreePort.Next();
        var intake = Start("dotnet", [intakeDll], new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{intakePort}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__cache"] = redis.ConnectionString,
            ["Blobs__Root"] = blobs.Root,
            // No broker in this benchmark: uploads never publish, and the bus keeps retrying quietly in the background.
            ["ConnectionStrings__messaging"] = $"amqp://guest:guest@127.0.0.1:{FreePort.Next()}/",
            ["Intake__ApiKeys__0__Tenant"] = "bench",
            ["Intake__ApiKeys__0__Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey))),
            ["Logging__LogLevel__Default"] = "Warning",
        });
        var discardPort = FreePort.Next();
        var self = Environment.ProcessPath!;
        var discard = Path.GetFileNameWithoutExtension(self) == "dotnet"
            ? Start(self, [typeof(UploadBench).Assembly.Location, "--discard-server", discardPort.ToString(CultureInfo.InvariantCulture)], [])
            : Start(self, ["--discard-server", discardPort.ToString(CultureInfo.InvariantCulture)], []);

        var bench = new UploadBench(redis, blobs,
            new Server("intake", intake, new Uri($"http://127.0.0.1:{intakePort}/v1/files"), ApiKey),
            new Server("baseline", discard, new Uri($"http://127.0.0.1:{discardPort}/v1/files"), null));
        try
        {
            await bench.WaitReadyAsync(new Uri($"http://127.0.0.1:{intakePort}/alive"), intake);
            await bench.WaitReadyAsync(new Uri($"http://127.0.0.1:{discardPort}/health"), discard);

            // Warm-up: a fresh intake needs several uploads before tiered JIT has optimised its hot loops
            // (measured: server CPU per 20 MB falls from ~300 ms to ~80 ms over the first six or so), and
            // a long-running service is what the figures should describe.
            var warmUp = new SyntheticJsonl(50_000, 20_000_000);
            for (var i = 0; i < 8; i++)
            {
                await bench.MeasureAsync(bench.Intake, warmUp);
                await bench.MeasureAsync(bench.Baseline, warmUp);
                await bench.ForgetUploadsAsync();
            }
            return bench;
        }
        catch
        {
            await bench.DisposeAsync();
            throw;
        }
    }

    public async Task<Measurement> MeasureAsync(Server server, SyntheticJsonl file)
    {
        var pid = server.Process.Id;
        if (_redisPid == 0)
        {
            var info = (string)(await _redis.Multiplexer.GetDatabase().ExecuteAsync("INFO", "server"))!;
            _redisPid = int.Parse(info.Split('\n').First(l => l.StartsWith("process_id:", StringComparison.Ordinal))["process_id:".Length..].Trim(), CultureInfo.InvariantCulture);
        }
        await File.WriteAllTextAsync($"/proc/{pid}/clear_refs", "5");   // resets VmHWM to the current RSS
        var before = ReadStatusKilobytes(pid, "VmRSS:") * 1024;
        var cpuBefore = CpuSeconds(pid) + (server == Intake ? CpuSeconds(_redisPid) : 0);
        var cpuOnlyBefore = CpuSeconds(pid);
        var clientBefore = CpuSeconds(Environment.ProcessId);

        using var request = new HttpRequestMessage(HttpMethod.Post, server.Upload) { Content = new PythonShapedUpload(file) };
        if (server.ApiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.ApiKey);
        var watch = Stopwatch.StartNew();
        using var response = await _http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{server.Name} answered {(int)response.StatusCode}: {body}");
        if (server == Intake && JsonDocument.Parse(body).RootElement.GetProperty("bytes").GetInt64() != file.Length)
            throw new InvalidOperationException($"The intake stored a different byte count: {body}");

        var peak = ReadStatusKilobytes(pid, "VmHWM:") * 1024;
        var cpu = CpuSeconds(pid) + (server == Intake ? CpuSeconds(_redisPid) : 0) - cpuBefore;
        var client = CpuSeconds(Environment.ProcessId) - clientBefore;
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
            Console.Error.WriteLine($"{server.Name} {file.Length / 1e6:F0} MB: {watch.ElapsedMilliseconds} ms, CPU {cpu * 1000:F0} ms, of which the server process {(CpuSeconds(pid) - cpuOnlyBefore) * 1000:F0} ms; client {client * 1000:F0} ms");
        return new Measurement(file.Length, watch.Elapsed.TotalSeconds, Math.Max(0, peak - before), cpu, client);
    }

    /// <summary>
    /// The store alone: the same bytes written by this process to a filesystem blob store on the same disk, in 1 MiB
    /// writes, and committed durably as the intake's are (no HTTP, no line scan). What the intake's path costs at the
    /// least on top of receiving the bytes.
    /// </summary>
    public async Task<Measurement> MeasureStoreAloneAsync(SyntheticJsonl file)
    {
        var store = new FileSystemBlobStore(new BlobStoreOptions { Root = Path.Combine(_blobs.Root, "store-alone") });
        var self = Environment.ProcessId;
        var cpuBefore = CpuSeconds(self);
        var buffer = new byte[1 << 20];
        var watch = Stopwatch.StartNew();
        await using (var source = file.Open())
        await using (var writer = store.OpenWrite("store-alone.data"))
        {
            int filled;
            while ((filled = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false)) > 0)
                await writer.WriteAsync(buffer.AsMemory(0, filled));
            await writer.CommitAsync();
        }
        watch.Stop();
        var cpu = CpuSeconds(self) - cpuBefore;
        await store.DeleteAsync("store-alone.data");
        if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
            Console.Error.WriteLine($"store alone {file.Length / 1e6:F0} MB: {watch.ElapsedMilliseconds} ms, CPU {cpu * 1000:F0} ms (this process)");
        return new Measurement(file.Length, watch.Elapsed.TotalSeconds, 0, cpu, 0);
    }

    /// <summary>Empties Redis and the intake's blobs between rounds, so the disk holds one round's files at most.</summary>
    public async Task ForgetUploadsAsync()
    {
        await _redis.Multiplexer.GetDatabase().ExecuteAsync("FLUSHALL");
        foreach (var blob in await _blobs.NamesAsync()) await _blobs.Store.DeleteAsync(blob);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { Intake.Process, Baseline.Process })
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
        _http.Dispose();
        await _redis.DisposeAsync();
        _blobs.Dispose();
    }

    private static Process Start(string fileName, string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task WaitReadyAsync(Uri probe, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{probe.Authority} exited with {process.ExitCode} while starting.");
            try
            {
                using var response = await _http.GetAsync(probe);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow >= deadline) throw new TimeoutException($"{probe} did not answer within 60 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>utime + stime of a process (fields 14 and 15 of /proc/pid/stat, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static long ReadStatusKilobytes(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>The Python SDK's request shape: purpose first, then the file, Content-Length set.</summary>
    private sealed class PythonShapedUpload : HttpContent
    {
        private readonly SyntheticJsonl _file;
        private readonly byte[] _head;
        private readonly byte[] _tail;

        public PythonShapedUpload(SyntheticJsonl file)
        {
            _file = file;
            var boundary = Guid.NewGuid().ToString("N");
            _head = Encoding.ASCII.GetBytes(
                $"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n" +
                $"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            _tail = Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n");
            Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_head);
            await using (var source = _file.Open()) await source.CopyToAsync(stream, 64 * 1024);
            await stream.WriteAsync(_tail);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _head.Length + _file.Length + _tail.Length;
            return true;
        }
    }
}
