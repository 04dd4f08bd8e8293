using System.Diagnostics;
using BatchAspire.Testing;

namespace BatchAspire.Sandbox.Tests;

/// <summary>
/// The Sandbox killed with SIGKILL in the middle of a batch (no shutdown code runs) resumes it from
/// its last checkpoint after a restart, and every request is answered exactly once.
/// </summary>
public sealed class CrashRecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AKilledSandboxResumesItsRunningBatchWithoutLosingOrRepeatingRequests()
    {
        var data = Directory.CreateTempSubdirectory("batchaspire-sandbox-crash-").FullName;
        const string key = "sk-crash";
        try
        {
            string batchId;
            using (var first = await SandboxChild.StartAsync(data, Ct))
            {
                using var api = await OpenAIApi.CreateAsync(first.Target(key), Ct);
                batchId = (await api.SubmitAsync(Jsonl.ChatFile(300, "crash"),
                    metadata: new Dictionary<string, string> { ["sandbox_line_latency_ms"] = "10" }, ct: Ct)).Str("id");
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while ((await api.GetBatchAsync(batchId, Ct)).Counts().Completed < 60)
                {
                    Assert.True(DateTime.UtcNow < deadline, "no progress before the kill");
                    await Task.Delay(20, Ct);
                }
                first.Kill();
            }

            using var second = await SandboxChild.StartAsync(data, Ct);
            using var again = await OpenAIApi.CreateAsync(second.Target(key), Ct);
            var done = await again.WaitForAsync(batchId, Ct);
            Assert.Equal("completed", done.Str("status"));
            Assert.Equal((300L, 300L, 0L), done.Counts());
            var lines = await again.ResultLinesAsync(done.Str("output_file_id"), Ct);
            Assert.Equal(300, lines.Count);
            Assert.Equal(300, lines.Select(l => l.Str("custom_id")).Distinct().Count());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    /// <summary>The Sandbox's own build run as a child process (the artifacts layout puts it beside this test's output).</summary>
    private sealed class SandboxChild : IDisposable
    {
        private readonly Process _process;

        private SandboxChild(Process process, Uri baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public Uri BaseUrl { get; }

        public ConformanceTarget Target(string key) => new FixedTarget(BaseUrl, key);

        public static async Task<SandboxChild> StartAsync(string dataDirectory, CancellationToken ct)
        {
            var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            var dll = Path.Combine(here.Parent!.Parent!.FullName, "BatchAspire.Sandbox", here.Name, "BatchAspire.Sandbox.dll");
            Assert.True(File.Exists(dll), $"Sandbox build not found at {dll}");
            var port = FreePort.Next();
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}" },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Path.GetDirectoryName(dll)!,
            };
            start.Environment["Sandbox__DataDirectory"] = dataDirectory;
            start.Environment["Sandbox__CheckpointIntervalMs"] = "100";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var child = new SandboxChild(process, new Uri($"http://127.0.0.1:{port}/v1"));
            using var http = new HttpClient();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    if ((await http.GetAsync($"http://127.0.0.1:{port}/health", ct)).IsSuccessStatusCode) return child;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                }
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    child.Dispose();
                    Assert.Fail("the Sandbox process did not become healthy");
                }
                await Task.Delay(100, ct);
            }
        }

        /// <summary>SIGKILL: no graceful shutdown, no final checkpoint.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public void Dispose()
        {
            if (!_process.HasExited) Kill();
            _process.Dispose();
        }
    }

    private sealed class FixedTarget(Uri baseUrl, string key) : ConformanceTarget
    {
        public override Uri BaseUrl => baseUrl;
        public override Task<string> NewApiKeyAsync(CancellationToken ct) => Task.FromResult(key);
    }
}
