using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace BatchAspire.Sandbox.Bench;

internal sealed record RunResult(TimeSpan Upload, TimeSpan Processing, TimeSpan Download, long OutputBytes, long PeakRssBytes, TimeSpan ProcessingCpu);

/// <summary>The Sandbox as its own process on a free loopback port, with a fresh data folder.</summary>
internal sealed class SandboxProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http;

    private SandboxProcess(Process process, HttpClient http)
    {
        _process = process;
        _http = http;
    }

    public static async Task<SandboxProcess> StartAsync(string dataDirectory)
    {
        var dll = Environment.GetEnvironmentVariable("SANDBOX_DLL") ?? LocateDll();
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["Sandbox__DataDirectory"] = dataDirectory;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("the Sandbox did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("[sandbox] " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sk-bench");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                if ((await http.GetAsync("health")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
            }
            if (process.HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("the Sandbox did not become healthy");
            await Task.Delay(100);
        }
        return new SandboxProcess(process, http);
    }

    public async Task WarmUpAsync(int rounds, params InputFile[] inputs)
    {
        for (var round = 0; round < rounds; round++)
        {
            foreach (var input in inputs) await RunAsync(input);
        }
    }

    /// <summary>Upload, create, poll to completion and download the output, timing each step; then read the peak RSS.</summary>
    public async Task<RunResult> RunAsync(InputFile input)
    {
        var watch = Stopwatch.StartNew();
        string fileId;
        await using (var file = new FileStream(input.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous))
        {
            using var form = new MultipartFormDataContent();
            form.Add(new StringContent("batch"), "purpose");
            var content = new StreamContent(file, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(content, "file", Path.GetFileName(input.Path));
            using var response = await _http.PostAsync("v1/files", form);
            fileId = (await Json(response)).GetProperty("id").GetString()!;
        }
        var upload = watch.Elapsed;

        watch.Restart();
        var cpuBefore = Cpu();
        using var create = new StringContent(JsonSerializer.Serialize(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h" }));
        create.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var batch = await Json(await _http.PostAsync("v1/batches", create));
        var batchId = batch.GetProperty("id").GetString()!;
        while (batch.GetProperty("status").GetString() is not ("completed" or "failed" or "expired" or "cancelled"))
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("batch did not finish in 10 minutes");
            await Task.Delay(10);
            batch = await Json(await _http.GetAsync($"v1/batches/{batchId}"));
        }
        var processing = watch.Elapsed;
        var processingCpu = Cpu() - cpuBefore;
        if (batch.GetProperty("status").GetString() != "completed") throw new InvalidOperationException("batch ended " + batch.GetRawText());

        watch.Restart();
        long outputBytes = 0;
        using (var response = await _http.GetAsync($"v1/files/{batch.GetProperty("output_file_id").GetString()}/content", HttpCompletionOption.ResponseHeadersRead))
        {
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1 << 20];
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0) outputBytes += read;
        }
        var download = watch.Elapsed;
        return new RunResult(upload, processing, download, outputBytes, PeakRss(), processingCpu);
    }

    /// <summary>User + system CPU time of the Sandbox process: a figure that holds on a busy machine, unlike wall time.</summary>
    private TimeSpan Cpu()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);   // utime, stime (fields 14 and 15 of the whole line)
        return TimeSpan.FromSeconds(ticks / 100.0);                      // USER_HZ is 100 on Linux
    }

    private long PeakRss()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
            }
        }
        throw new InvalidOperationException("VmHWM not found");
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {text}");
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>The Sandbox build that sits beside this bench in the artifacts output (same configuration pivot).</summary>
    private static string LocateDll()
    {
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var candidate = Path.Combine(here.Parent!.Parent!.FullName, "BatchAspire.Sandbox", here.Name, "BatchAspire.Sandbox.dll");
        return File.Exists(candidate) ? candidate : throw new FileNotFoundException("Set SANDBOX_DLL: the Sandbox build was not found at " + candidate);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
