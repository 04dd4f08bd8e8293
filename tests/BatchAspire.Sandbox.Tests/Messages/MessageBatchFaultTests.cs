namespace BatchAspire.Sandbox.Tests.Messages;

/// <summary>Cancelling message batches, and the Sandbox's fault knobs as they apply to them.</summary>
public sealed class MessageBatchFaultTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Tests of one class run one after another; each starts from the configured (fault-free) knobs.
    public async ValueTask InitializeAsync()
    {
        using var http = sandbox.Host.CreateClient();
        (await http.DeleteAsync("sandbox/faults", Ct)).EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static IEnumerable<object> Requests(int count) =>
        Enumerable.Range(0, count).Select(i => AnthropicApi.Request($"r{i}", $"request {i}"));

    [Fact]
    public async Task ACancelledBatchEndsWithEveryRequestNotYetRunCanceled()
    {
        await sandbox.Host.SetFaultsAsync(new { validation_delay_ms = 30_000 }, Ct);
        using var api = AnthropicApi.For(sandbox.Host);
        var batch = await api.CreateAsync(Requests(5), Ct);
        var id = batch.Str("id");

        using var early = await api.Http.DeleteAsync($"v1/messages/batches/{id}", Ct);
        Assert.Contains("cancel it first", (await AnthropicApi.AssertErrorAsync(early, 400, "invalid_request_error")).Str("message"));
        using var tooEarly = await api.Http.GetAsync($"v1/messages/batches/{id}/results", Ct);
        await AnthropicApi.AssertErrorAsync(tooEarly, 400, "invalid_request_error");

        var canceling = await api.PostAsync($"v1/messages/batches/{id}/cancel", Ct);
        Assert.Contains(canceling.Str("processing_status"), new[] { "canceling", "ended" });
        Assert.False(canceling.IsNull("cancel_initiated_at"));

        var ended = await api.WaitEndedAsync(id, Ct);
        Assert.Equal(5, ended.GetProperty("request_counts").Int("canceled"));
        Assert.Equal(0, ended.GetProperty("request_counts").Int("succeeded"));
        var results = await api.ResultsAsync(id, Ct);
        Assert.Equal(5, results.Count);
        Assert.All(results, r => Assert.Equal("canceled", r.GetProperty("result").Str("type")));
        var again = await api.PostAsync($"v1/messages/batches/{id}/cancel", Ct);
        Assert.Equal(("ended", ended.Str("ended_at")), (again.Str("processing_status"), again.Str("ended_at")));
    }

    [Fact]
    public async Task LineFailureRatesEndRequestsErroredWithRateLimitAndApiErrors()
    {
        await sandbox.Host.SetFaultsAsync(new { line_fail_429_rate = 0.3, line_fail_500_rate = 0.3 }, Ct);
        using var api = AnthropicApi.For(sandbox.Host);
        var batch = await api.CreateAsync(Requests(200), Ct);

        var ended = await api.WaitEndedAsync(batch.Str("id"), Ct);
        var results = await api.ResultsAsync(batch.Str("id"), Ct);

        var errored = results.Where(r => r.GetProperty("result").Str("type") == "errored").ToList();
        var byType = errored.GroupBy(r => r.GetProperty("result").GetProperty("error").GetProperty("error").Str("type")).ToDictionary(g => g.Key, g => g.Count());
        Assert.InRange(byType["rate_limit_error"], 35, 85);
        Assert.InRange(byType["api_error"], 35, 85);
        Assert.Equal(2, byType.Count);
        Assert.Equal(errored.Count, ended.GetProperty("request_counts").Int("errored"));
        Assert.Equal(200 - errored.Count, ended.GetProperty("request_counts").Int("succeeded"));
        Assert.Equal(200, results.Select(r => r.Str("custom_id")).Distinct().Count());
    }

    [Fact]
    public async Task AShortenedCompletionWindowEndsTheRequestsNotRunExpired()
    {
        await sandbox.Host.SetFaultsAsync(new { expire_after_seconds = 0.5, line_latency_ms = 20 }, Ct);
        using var api = AnthropicApi.For(sandbox.Host);
        var batch = await api.CreateAsync(Requests(100), Ct);

        var ended = await api.WaitEndedAsync(batch.Str("id"), Ct);
        var results = await api.ResultsAsync(batch.Str("id"), Ct);

        var counts = ended.GetProperty("request_counts");
        Assert.InRange(counts.Int("expired"), 50, 99);
        Assert.InRange(counts.Int("succeeded"), 1, 50);
        Assert.Equal(100, counts.Int("succeeded") + counts.Int("expired"));
        Assert.Equal(counts.Int("expired"), results.Count(r => r.GetProperty("result").Str("type") == "expired"));
        Assert.Equal(100, results.Select(r => r.Str("custom_id")).Distinct().Count());
    }

    [Fact]
    public async Task InjectedApiErrorsAnswerInAnthropicsShape()
    {
        await sandbox.Host.SetFaultsAsync(new { api_fail_next_429 = 1, api_fail_next_500 = 1, api_fail_path_prefix = "/v1/messages", retry_after_seconds = 2 }, Ct);
        using var api = AnthropicApi.For(sandbox.Host);

        using var first = await api.Http.GetAsync("v1/messages/batches", Ct);
        await AnthropicApi.AssertErrorAsync(first, 429, "rate_limit_error");
        Assert.Equal("2", first.Headers.GetValues("Retry-After").Single());
        using var second = await api.Http.GetAsync("v1/messages/batches", Ct);
        await AnthropicApi.AssertErrorAsync(second, 500, "api_error");
        await api.GetAsync("v1/messages/batches", Ct);
    }
}
