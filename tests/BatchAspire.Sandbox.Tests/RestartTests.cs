namespace BatchAspire.Sandbox.Tests;

/// <summary>State lives on disk: a restart on the same data folder loses nothing and finishes running batches.</summary>
public sealed class RestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FilesAndBatchesSurviveARestartAndARunningBatchFinishesExactlyOnce()
    {
        var data = Directory.CreateTempSubdirectory("batchaspire-sandbox-restart-").FullName;
        const string key = "sk-restart";
        try
        {
            string fileId, finishedId, runningId;
            string finishedJson;
            await using (var first = SandboxHost.Start(dataDirectory: data))
            {
                using var api = await OpenAIApi.CreateAsync(new SandboxTarget(first, key), Ct);
                fileId = (await api.UploadAsync(Jsonl.ChatFile(3), "kept.jsonl", ct: Ct)).Str("id");
                finishedId = (await api.CreateBatchAsync(fileId, ct: Ct)).Str("id");
                finishedJson = (await api.WaitForAsync(finishedId, Ct)).GetRawText();
                var running = await api.SubmitAsync(Jsonl.ChatFile(80, "slow"),
                    metadata: new Dictionary<string, string> { ["sandbox_line_latency_ms"] = "25" }, ct: Ct);
                runningId = running.Str("id");
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while ((await api.GetBatchAsync(runningId, Ct)).Counts().Completed < 20)
                {
                    Assert.True(DateTime.UtcNow < deadline, "no progress before the restart");
                    await Task.Delay(20, Ct);
                }
            }

            await using var second = SandboxHost.Start(dataDirectory: data);
            using var again = await OpenAIApi.CreateAsync(new SandboxTarget(second, key), Ct);
            var file = await again.OkJsonAsync(HttpMethod.Get, $"files/{fileId}", ct: Ct);
            Assert.Equal("kept.jsonl", file.Str("filename"));
            Assert.Equal(Jsonl.ChatFile(3), await again.DownloadAsync(fileId, Ct));
            Assert.Equal(finishedJson, (await again.GetBatchAsync(finishedId, Ct)).GetRawText());

            var resumed = await again.WaitForAsync(runningId, Ct);
            Assert.Equal("completed", resumed.Str("status"));
            Assert.Equal((80L, 80L, 0L), resumed.Counts());
            var lines = await again.ResultLinesAsync(resumed.Str("output_file_id"), Ct);
            Assert.Equal(80, lines.Count);
            Assert.Equal(80, lines.Select(l => l.Str("custom_id")).Distinct().Count());
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task ASecondSandboxOnTheSameDataFolderRefusesToStart()
    {
        var data = Directory.CreateTempSubdirectory("batchaspire-sandbox-lock-").FullName;
        try
        {
            await using (var first = SandboxHost.Start(dataDirectory: data))
            {
                var refused = Assert.ThrowsAny<Exception>(() => SandboxHost.Start(dataDirectory: data));
                Assert.Contains("in use by another Sandbox", refused.ToString());
            }
            await using var afterwards = SandboxHost.Start(dataDirectory: data);   // released on shutdown
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
