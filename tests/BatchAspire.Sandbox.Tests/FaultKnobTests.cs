using System.Net.Http.Json;
using System.Text.Json;

namespace BatchAspire.Sandbox.Tests;

/// <summary>The fault knobs and counters of /sandbox/faults and /sandbox/stats, switched on a running Sandbox.</summary>
public sealed class FaultKnobTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Tests of one class run one after another; each starts from the configured (fault-free) knobs.
    public async ValueTask InitializeAsync()
    {
        using var http = sandbox.Host.CreateClient();
        (await http.DeleteAsync("sandbox/faults", Ct)).EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<OpenAIApi> NewAccountAsync() => OpenAIApi.CreateAsync(sandbox.Target, Ct);

    [Fact]
    public async Task FaultsCanBeReadReplacedAndReset()
    {
        using var http = sandbox.Host.CreateClient();
        var put = await http.PutAsJsonAsync("sandbox/faults", new { line_latency_ms = 7, api_fail_429_rate = 0.25, expire_after_seconds = 3.5 }, Ct);
        put.EnsureSuccessStatusCode();
        using var current = JsonDocument.Parse(await http.GetStringAsync("sandbox/faults", Ct));
        Assert.Equal(7, current.RootElement.GetProperty("line_latency_ms").GetInt32());
        Assert.Equal(0.25, current.RootElement.GetProperty("api_fail_429_rate").GetDouble());
        Assert.Equal(3.5, current.RootElement.GetProperty("expire_after_seconds").GetDouble());
        Assert.Equal(0, current.RootElement.GetProperty("validation_delay_ms").GetInt32());
        (await http.DeleteAsync("sandbox/faults", Ct)).EnsureSuccessStatusCode();
        using var reset = JsonDocument.Parse(await http.GetStringAsync("sandbox/faults", Ct));
        Assert.Equal(0, reset.RootElement.GetProperty("line_latency_ms").GetInt32());
        var unknown = await http.PutAsJsonAsync("sandbox/faults", new { no_such_knob = 1 }, Ct);
        Assert.Equal(400, (int)unknown.StatusCode);
    }

    [Fact]
    public async Task LineFailureRatesWrite429And500ErrorLines()
    {
        await sandbox.Host.SetFaultsAsync(new { line_fail_429_rate = 0.3, line_fail_500_rate = 0.2 }, Ct);
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(400), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        var errors = await api.ResultLinesAsync(done.Str("error_file_id"), Ct);
        var byStatus = errors.GroupBy(l => l.GetProperty("response").Int("status_code")).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(byStatus[429], 80, 160);
        Assert.InRange(byStatus[500], 45, 120);
        Assert.Equal(2, byStatus.Count);
        var rateLimited = errors.First(l => l.GetProperty("response").Int("status_code") == 429);
        Assert.True(rateLimited.IsNull("error"));
        Assert.Equal("rate_limit_exceeded", rateLimited.GetProperty("response").GetProperty("body").GetProperty("error").Str("code"));
        Assert.Equal(400 - errors.Count, done.Counts().Completed);
    }

    [Fact]
    public async Task OutputOutOfOrderWritesEveryAnswerOnceButNotInInputOrder()
    {
        await sandbox.Host.SetFaultsAsync(new { output_out_of_order = true }, Ct);
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(400), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        var ids = (await api.ResultLinesAsync(done.Str("output_file_id"), Ct)).Select(l => l.Str("custom_id")).ToList();

        var inputOrder = Enumerable.Range(0, 400).Select(i => $"request-{i}").ToList();
        Assert.Equal(inputOrder.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
        Assert.NotEqual(inputOrder, ids);
    }

    [Fact]
    public async Task InjectedApiErrorsAnswerTheNextMatchingCalls()
    {
        await sandbox.Host.SetFaultsAsync(new { api_fail_next_500 = 1, api_fail_next_429 = 1, api_fail_method = "POST", api_fail_path_prefix = "/v1/batches", retry_after_seconds = 2 }, Ct);
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(Jsonl.ChatFile(1), ct: Ct)).Str("id");   // a POST /v1/files: not matched
        var body = new { input_file_id = fileId, endpoint = OpenAIApi.ChatEndpoint, completion_window = "24h" };
        using var first = await api.CreateBatchRawAsync(body, Ct);
        Assert.Equal("rate_limit_exceeded", (await Wire.AssertErrorAsync(first, 429)).Str("code"));
        Assert.Equal("2", first.Headers.GetValues("Retry-After").Single());
        Assert.Equal("2000", first.Headers.GetValues("retry-after-ms").Single());
        using var second = await api.CreateBatchRawAsync(body, Ct);
        Assert.Equal("server_error", (await Wire.AssertErrorAsync(second, 500)).Str("type"));
        using var third = await api.CreateBatchRawAsync(body, Ct);
        await Wire.AssertOkJsonAsync(third);
    }

    [Fact]
    public async Task ExpireNextBatchesShortensOnlyThatManyBatches()
    {
        await sandbox.Host.SetFaultsAsync(new { expire_after_seconds = 0.5, expire_next_batches = 1, line_latency_ms = 10 }, Ct);
        using var api = await NewAccountAsync();
        var first = await api.SubmitAsync(Jsonl.ChatFile(200), ct: Ct);
        var second = await api.SubmitAsync(Jsonl.ChatFile(20), ct: Ct);
        Assert.InRange(first.Int("expires_at") - first.Int("created_at"), 0, 2);   // whole seconds around a 0.5 s window
        Assert.Equal(second.Int("created_at") + 86_400, second.Int("expires_at"));
        Assert.Equal("expired", (await api.WaitForAsync(first.Str("id"), Ct)).Str("status"));
        Assert.Equal("completed", (await api.WaitForAsync(second.Str("id"), Ct)).Str("status"));
    }

    [Fact]
    public async Task ValidationDelayKeepsBatchesValidatingForThatLong()
    {
        await sandbox.Host.SetFaultsAsync(new { validation_delay_ms = 3000 }, Ct);
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(2), ct: Ct);
        await Task.Delay(500, Ct);
        Assert.Equal("validating", (await api.GetBatchAsync(batch.Str("id"), Ct)).Str("status"));
        Assert.Equal("completed", (await api.WaitForAsync(batch.Str("id"), Ct, TimeSpan.FromSeconds(10))).Str("status"));
    }

    [Fact]
    public async Task BatchesPastTheEnqueuedTokenLimitFailWithTokenLimitExceeded()
    {
        await sandbox.Host.SetFaultsAsync(new { enqueued_token_limit = 800, line_latency_ms = 20 }, Ct);
        using var api = await NewAccountAsync();
        var running = await api.SubmitAsync(Jsonl.ChatFile(50), ct: Ct);                  // ~11 prompt tokens a line: 550 fits
        await api.WaitForAsync(running.Str("id"), Ct, null, "in_progress");
        var over = await api.SubmitAsync(Jsonl.ChatFile(50, "second"), ct: Ct);            // together they pass 800
        var failed = await api.WaitForAsync(over.Str("id"), Ct);
        Assert.Equal("failed", failed.Str("status"));
        var error = Assert.Single(failed.GetProperty("errors").GetProperty("data").EnumerateArray());
        Assert.Equal("token_limit_exceeded", error.Str("code"));
        Assert.True(error.IsNull("line"));
        Assert.Equal("completed", (await api.WaitForAsync(running.Str("id"), Ct)).Str("status"));
    }

    [Fact]
    public async Task StatsCountCreatedBatchesAndGetsPerBatch()
    {
        using var http = sandbox.Host.CreateClient();
        using var before = JsonDocument.Parse(await http.GetStringAsync("sandbox/stats", Ct));
        var created = before.RootElement.GetProperty("batches_created").GetInt64();
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(1), ct: Ct);
        for (var i = 0; i < 3; i++) await api.GetBatchAsync(batch.Str("id"), Ct);
        using var after = JsonDocument.Parse(await http.GetStringAsync("sandbox/stats", Ct));
        Assert.Equal(created + 1, after.RootElement.GetProperty("batches_created").GetInt64());
        Assert.Equal(3, after.RootElement.GetProperty("batch_gets").GetProperty(batch.Str("id")).GetInt64());
    }
}
