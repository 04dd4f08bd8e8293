using BatchAspire.Contracts;
using BatchAspire.Reliability.Tests.Harness;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// The broker and the store go away in the middle of jobs and come back: RabbitMQ stopped and started (its queues
/// are durable), Redis SIGKILLed and started again on its append-only file. Jobs running at the time, and a job
/// created while the broker was down, must still end with every request answered exactly once.
/// </summary>
public abstract class InfrastructureRestartScenarios(ReliabilityFixture fixture) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    [Fact]
    public async Task RabbitMQStoppedAndRestartedMidJobLosesNoRequestAndAJobCreatedMeanwhileRunsToo()
    {
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 3 }, Ct);
        var running = await Jobs.SubmitAsync(fixture, "alpha", 1600, "rabbit-running", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(running.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");

        var broker = fixture.Control.InstancesOf(ResourceNames.Messaging).Single();
        await fixture.Control.StopAsync(broker, Ct);
        // The intake stores this job and cannot announce it: its re-publisher must, once the broker is back.
        var createdWhileDown = await Jobs.SubmitAsync(fixture, "alpha", 400, "rabbit-down", Ct);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        await fixture.Control.StartAsync(broker, Ct);
        fixture.Ledger.Note("RabbitMQ stopped and restarted", restarts: 1);

        foreach (var job in new[] { running, createdWhileDown })
        {
            var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
            await JobInvariant.CheckAsync(fixture, job, end, "RabbitMQ stopped and restarted", Ct);
        }
    }

    [Fact]
    public async Task RedisKilledAndRestartedFromItsAppendOnlyFileMidJobLosesNoRequest()
    {
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 3 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1600, "redis-kill", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");
        var (jobKeysBefore, resultsBefore) = await JobStateAsync(job.BatchId);

        var killed = await fixture.Control.KillAsync(ResourceNames.Cache, 0, Ct);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("Redis killed and restarted (AOF)", kills: 1, restarts: 1);
        // What the job had stored before the kill is all there after it (a job never deletes its own keys while it runs).
        var (jobKeysAfter, resultsAfter) = await JobStateAsync(job.BatchId);
        Assert.Empty(jobKeysBefore.Except(jobKeysAfter));
        Assert.True(resultsAfter >= resultsBefore, $"results stored before the kill: {resultsBefore}, after: {resultsAfter}");

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "Redis killed and restarted (AOF)", Ct);
    }

    [Fact]
    public async Task RedisDownLongerThanEveryClientTimeoutLeavesEveryServiceRunningAndLosesNoRequest()
    {
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 3 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1600, "redis-outage", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");

        var killed = await fixture.Control.KillAsync(ResourceNames.Cache, 0, Ct);
        // Longer than the Redis client's 5 s timeouts and the services' sweep intervals: every loop meets the outage.
        await Task.Delay(TimeSpan.FromSeconds(20), Ct);
        var down = ReliabilityFixture.Services.SelectMany(fixture.Control.InstancesOf)
            .Where(id => fixture.Control.StateOf(id)?.Snapshot.State?.Text != KnownResourceStates.Running).ToList();
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("Redis down 20 s", kills: 1, restarts: 1);
        Assert.True(down.Count == 0, $"services that stopped during the Redis outage: {string.Join(", ", down)}");

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "Redis down 20 s", Ct);
    }

    private async Task<(HashSet<string> Keys, long Results)> JobStateAsync(string jobId)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in fixture.Redis.GetServers()[0].KeysAsync(pattern: $"ba:{{{jobId}}}:*")) keys.Add(key!);
        return (keys, await fixture.Redis.GetDatabase().HashLengthAsync($"ba:{{{jobId}}}:results"));
    }
}

[Collection(nameof(ReliabilityCollection))]
public sealed class InfrastructureRestartTests(ReliabilityFixture fixture) : InfrastructureRestartScenarios(fixture);

/// <summary>
/// The same scenarios with the payload in Azurite, and Azurite itself stopped and started in the middle of a job: the
/// services wait for the blob store (an outage, retried) and nothing is lost or doubled.
/// </summary>
[Collection(nameof(AzureReliabilityCollection))]
public sealed class InfrastructureRestartTestsOnAzure(AzureReliabilityFixture fixture) : InfrastructureRestartScenarios(fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AzuriteStoppedAndRestartedMidJobLosesNoRequestAndAnUploadMeanwhileIsRefusedWithoutATrace()
    {
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 3 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1600, "azurite-restart", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");
        var filesBefore = await Jobs.FileIdsAsync(fixture, "bravo", Ct);

        var azurite = fixture.Control.InstancesOf(ResourceNames.Blobs).Single();
        await fixture.Control.StopAsync(azurite, Ct);
        // An upload while the store is down fails with a server error the SDKs retry, and leaves no file.
        using (var http = fixture.CreateIntakeClient())
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/files") { Content = Multipart.Python("batch", "down.jsonl", Jobs.Requests(50, "azurite-down").File.ToArray()) })
        {
            request.Headers.Authorization = new("Bearer", fixture.KeyOf("bravo"));
            using var response = await http.SendAsync(request, Ct);
            Assert.True((int)response.StatusCode >= 500, $"an upload with the blob store down answered {(int)response.StatusCode}");
        }
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        await fixture.Control.StartAsync(azurite, Ct);
        fixture.Ledger.Note("Azurite stopped and restarted", restarts: 1);

        Assert.Equal(filesBefore, await Jobs.FileIdsAsync(fixture, "bravo", Ct));
        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "Azurite stopped and restarted", Ct);
    }
}
