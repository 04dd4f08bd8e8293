namespace BatchAspire.Sandbox.Tests.Messages;

/// <summary>Message batches live on disk like OpenAI batches: a restart on the same data folder finishes them exactly once.</summary>
public sealed class MessageBatchRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARunningMessageBatchFinishesExactlyOnceAfterARestartAndLeftoversOfOthersAreDeleted()
    {
        var data = Directory.CreateTempSubdirectory("batchaspire-sandbox-msg-restart-").FullName;
        const string key = "sk-ant-restart";
        try
        {
            string finishedId, runningId, finishedJson, firstAuthority;
            var orphan = Path.Combine(data, "batches", "msgbatch_orphan.requests.jsonl");
            await using (var first = SandboxHost.Start(dataDirectory: data))
            {
                firstAuthority = first.RootUrl.Authority;
                using var api = AnthropicApi.For(first, key);
                finishedId = (await api.CreateAsync([AnthropicApi.Request("done", "finished before")], Ct)).Str("id");
                finishedJson = (await api.WaitEndedAsync(finishedId, Ct)).GetRawText();

                await first.SetFaultsAsync(new { line_latency_ms = 150 }, Ct);
                runningId = (await api.CreateAsync(Enumerable.Range(0, 8).Select(i => AnthropicApi.Request($"r{i}", $"slow {i}")), Ct)).Str("id");
                var part = Path.Combine(data, "batches", runningId + ".output.part");
                var deadline = DateTime.UtcNow.AddSeconds(30);
                while (!File.Exists(part) || File.ReadAllBytes(part).Count(b => b == (byte)'\n') < 2)
                {
                    Assert.True(DateTime.UtcNow < deadline, "no progress before the restart");
                    await Task.Delay(20, Ct);
                }
                // What a create that the process died in the middle of leaves behind.
                await File.WriteAllTextAsync(orphan, "{}\n", Ct);
            }

            await using var second = SandboxHost.Start(dataDirectory: data);
            using var again = AnthropicApi.For(second, key);

            Assert.False(File.Exists(orphan));
            // Unchanged, but for results_url: it names the host the caller reached, and the new Sandbox listens on another port.
            var finished = await again.GetAsync($"v1/messages/batches/{finishedId}", Ct);
            Assert.Equal(finishedJson.Replace(firstAuthority, second.RootUrl.Authority), finished.GetRawText());
            var ended = await again.WaitEndedAsync(runningId, Ct);
            Assert.Equal(8, ended.GetProperty("request_counts").Int("succeeded"));
            var results = await again.ResultsAsync(runningId, Ct);
            Assert.Equal(8, results.Count);
            Assert.Equal(8, results.Select(r => r.Str("custom_id")).Distinct().Count());
            Assert.All(results, r => Assert.Equal("succeeded", r.GetProperty("result").Str("type")));
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }
}
