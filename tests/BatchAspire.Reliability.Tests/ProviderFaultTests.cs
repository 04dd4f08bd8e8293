using BatchAspire.Reliability.Tests.Harness;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// The provider misbehaves for a while: its API answers 500 and 429 at random and some creates time out after the
/// batch was made; request lines fail with 429/500; a provider batch expires before it is done. Transient trouble
/// must cost retries, never a lost or doubled answer, and never a second provider batch for one chunk attempt.
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public sealed class ProviderFaultTests(ReliabilityFixture fixture) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    [Fact]
    public async Task ProviderAnswering5xxAnd429ForAWhileCostsRetriesButNoAnswer()
    {
        await fixture.Sandbox.SetFaultsAsync(new
        {
            api_fail_500_rate = 0.25, api_fail_429_rate = 0.25, retry_after_seconds = 1,
            line_fail_500_rate = 0.1, line_fail_429_rate = 0.1, line_latency_ms = 1,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1200, "api-faults", Ct);
        await Task.Delay(TimeSpan.FromSeconds(20), Ct);
        var faults = (await fixture.Sandbox.StatsAsync(Ct)).GetProperty("api_faults");
        await fixture.Sandbox.ClearFaultsAsync(Ct);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        var report = await JobInvariant.CheckAsync(fixture, job, end, "provider 5xx and 429 for a while", Ct);
        Assert.True(faults.GetProperty("500").GetInt64() + faults.GetProperty("429").GetInt64() > 0, "no API fault was injected");
        Assert.True(report.MaxAttempt >= 2, $"failed lines were never retried: {report}");
    }

    [Fact]
    public async Task CreatesThatTimeOutAfterTheBatchWasMadeAreFoundByMetadataNotMadeAgain()
    {
        // Three creates answer after 12 s, past the workers' 8 s attempt timeout: each batch exists, the submitter hears nothing.
        await fixture.Sandbox.SetFaultsAsync(new
        {
            response_delay_ms = 12_000, response_delay_method = "POST", response_delay_path_prefix = "/v1/batches", response_delay_next = 3,
            line_latency_ms = 1,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1200, "create-timeout", Ct);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        var report = await JobInvariant.CheckAsync(fixture, job, end, "provider create timing out", Ct);
        Assert.Equal(3, report.ProviderBatches);
    }

    [Fact]
    public async Task ProviderBatchesThatExpireHaveTheirUnfinishedRequestsRetried()
    {
        // The next two provider batches get a 2 s completion window while each line takes 10 ms: they expire part-done.
        await fixture.Sandbox.SetFaultsAsync(new { expire_after_seconds = 2.0, expire_next_batches = 2, line_latency_ms = 10 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 800, "provider-expiry", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () =>
            (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Any(b => b.GetProperty("status").GetString() == "expired"),
            TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(250), Ct), "no provider batch expired");
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 1 }, Ct);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        var report = await JobInvariant.CheckAsync(fixture, job, end, "provider batch expired", Ct);
        Assert.True(report.MaxAttempt >= 2, $"expired requests were not retried: {report}");
        Assert.Equal(800, report.Output);
    }

    [Fact]
    public async Task ProviderDownloadsFailingLongerThanTheConsumersRetriesStillEndTheJob()
    {
        // Result files cannot be downloaded for 45 s: longer than the HTTP retries and the consumer's retries together.
        await fixture.Sandbox.SetFaultsAsync(new
        {
            api_fail_500_rate = 1.0, api_fail_method = "GET", api_fail_path_prefix = "/v1/files/", line_latency_ms = 1,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 800, "download-outage", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () =>
            (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)) is { Count: 2 } batches && batches.All(b => b.GetProperty("status").GetString() == "completed"),
            TimeSpan.FromMinutes(2), TimeSpan.FromMilliseconds(250), Ct), "the provider batches never completed");
        await Task.Delay(TimeSpan.FromSeconds(45), Ct);
        var faults = (await fixture.Sandbox.StatsAsync(Ct)).GetProperty("api_faults").GetProperty("500").GetInt64();
        await fixture.Sandbox.ClearFaultsAsync(Ct);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "provider downloads failing 45 s", Ct);
        Assert.True(faults > 0, "no download failed");
    }
}
