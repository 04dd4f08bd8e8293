using System.Diagnostics.Metrics;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Webhooks;
using BatchAspire.Results.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.Results.Tests.Webhooks;

/// <summary>
/// Delivery at the Redis and dispatcher level: events recorded by the real job scripts, dispatchers hosted as the
/// results service hosts them, a receiver on loopback that can be down, failing or hanging.
/// </summary>
public sealed class WebhookDeliveryTests(RedisFixture fixture) : IAsyncLifetime
{
    private static readonly string Secret = WebhookSigningTests.NewSecret();

    // ba:webhooks:due is global: each test has a database of its own.
    private IsolatedRedis _redis = null!;
    private WebhookReceiver _receiver = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _receiver = new WebhookReceiver();
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AnEndedJobsEventGoesSignedToEachOfItsTenantsEndpointsThatWantItAndToNoOther()
    {
        await _receiver.UpAsync(TestContext.Current.CancellationToken);
        var tenant = RedisFixture.NewTenant();
        await using var dispatcher = await DispatcherAsync(new()
        {
            ["Webhooks:Endpoints:0:Tenant"] = tenant, ["Webhooks:Endpoints:0:Url"] = _receiver.Url("all").ToString(), ["Webhooks:Endpoints:0:Secret"] = Secret,
            ["Webhooks:Endpoints:1:Tenant"] = tenant, ["Webhooks:Endpoints:1:Url"] = _receiver.Url("failed").ToString(), ["Webhooks:Endpoints:1:Secret"] = Secret,
            ["Webhooks:Endpoints:1:Events:0"] = WebhookEventTypes.Failed,
            ["Webhooks:Endpoints:2:Tenant"] = tenant, ["Webhooks:Endpoints:2:Url"] = _receiver.Url("completed").ToString(), ["Webhooks:Endpoints:2:Secret"] = Secret,
            ["Webhooks:Endpoints:2:Events:0"] = WebhookEventTypes.Completed,
            ["Webhooks:Endpoints:3:Tenant"] = "someone-else", ["Webhooks:Endpoints:3:Url"] = _receiver.Url("other").ToString(), ["Webhooks:Endpoints:3:Secret"] = Secret,
        });

        var jobId = await FailedJobAsync(tenant);
        await WaitUntilAsync(async () => await Events.GetAsync(jobId) is null, "the event to be delivered and forgotten");

        Assert.Equal(["all", "failed"], _receiver.Requests.Select(r => r.Path).Order());
        foreach (var request in _receiver.Requests)
        {
            Assert.Equal("evt_" + jobId["batch_".Length..], request.Headers[WebhookSigner.IdHeader]);
            Assert.Contains("\"type\":\"batch.failed\"", request.Body);
            Assert.StartsWith("v1,", request.Headers[WebhookSigner.SignatureHeader]);
        }
        Assert.Equal(0, await Events.PendingCountAsync());
    }

    [Fact]
    public async Task AReceiverDownForAWhileThenUpGetsTheEventWithOneWebhookIdOnEveryTry()
    {
        var tenant = RedisFixture.NewTenant();
        await using var dispatcher = await DispatcherAsync(Endpoint(tenant));
        var jobId = await FailedJobAsync(tenant);

        // Down: nothing listens on the endpoint's port, so tries fail to connect and are rescheduled.
        await WaitUntilAsync(async () => (await Events.GetAsync(jobId))?.Attempts >= 2, "two failed tries while the receiver is down");
        // Up, but failing twice more before it takes the event.
        var answers = 0;
        _receiver.Answer = () => Interlocked.Increment(ref answers) <= 2 ? 503 : 200;
        await _receiver.UpAsync(TestContext.Current.CancellationToken);
        await WaitUntilAsync(async () => await Events.GetAsync(jobId) is null, "delivery once the receiver is up");

        Assert.Equal(3, _receiver.Requests.Count);
        Assert.Single(_receiver.Accepted);
        Assert.Single(_receiver.Requests.Select(r => r.Headers[WebhookSigner.IdHeader]).Distinct());
        Assert.Single(_receiver.Requests.Select(r => r.Body).Distinct());
    }

    [Fact]
    public async Task ADispatcherKilledMidDeliveryLeavesTheEventToTheNextClaimOnceItsLeaseLapses()
    {
        var tenant = RedisFixture.NewTenant();
        _receiver.Answer = () => null;   // holds the first try open
        await _receiver.UpAsync(TestContext.Current.CancellationToken);
        var first = await DispatcherAsync(Endpoint(tenant));
        var jobId = await FailedJobAsync(tenant);
        await WaitUntilAsync(() => Task.FromResult(_receiver.Requests.Count == 1), "the first try to reach the receiver");

        // Stopping cancels the try in flight; like a kill, nothing after the claim is written: the event keeps its lease.
        await first.DisposeAsync();
        var stored = await Events.GetAsync(jobId);
        Assert.NotNull(stored);
        Assert.Equal(0, stored.Attempts);
        Assert.True(await _redis.Db.SortedSetScoreAsync(RedisKeys.WebhooksDue, jobId) > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 100,
            "the event is still claimed (its score is the lease's end)");

        _receiver.Answer = () => 200;
        await using var second = await DispatcherAsync(Endpoint(tenant));
        await WaitUntilAsync(async () => await Events.GetAsync(jobId) is null, "the next dispatcher to deliver after the lease");

        Assert.Equal(2, _receiver.Requests.Count);
        Assert.Single(_receiver.Accepted);
        Assert.Single(_receiver.Requests.Select(r => r.Headers[WebhookSigner.IdHeader]).Distinct());
    }

    [Fact]
    public async Task AnEventStillRefusedWhenItsRetryTimeRunsOutIsDeadLetteredKeptAndCounted()
    {
        _receiver.Answer = () => 500;
        await _receiver.UpAsync(TestContext.Current.CancellationToken);
        var tenant = RedisFixture.NewTenant();
        var settings = Endpoint(tenant);
        settings["Webhooks:RetryFor"] = "00:00:01";
        await using var dispatcher = await DispatcherAsync(settings);
        var deadLettered = 0L;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "batchaspire.webhooks.dead_lettered" && instrument.Meter.Scope == dispatcher.Services.GetRequiredService<IMeterFactory>())
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref deadLettered, value));
        listener.Start();

        var jobId = await FailedJobAsync(tenant);
        await WaitUntilAsync(async () => (await Events.DeadLettersAsync()).Contains(jobId), "the dead letter");

        var stored = await Events.GetAsync(jobId);
        Assert.NotNull(stored);
        Assert.True(stored.Attempts >= 1, $"{stored.Attempts} tries before giving up");   // a loaded machine may fit only one in 1 s
        Assert.Equal(stored.Attempts, _receiver.Requests.Count);
        Assert.Equal(0, await Events.PendingCountAsync());
        Assert.Equal(1, Interlocked.Read(ref deadLettered));
        Assert.True(await _redis.Db.KeyTimeToLiveAsync(RedisKeys.WebhookEvent(jobId)) > TimeSpan.FromDays(6), "kept for the retention");
    }

    private WebhookEvents Events => new(_redis.Multiplexer);

    private Dictionary<string, string?> Endpoint(string tenant) => new()
    {
        ["Webhooks:Endpoints:0:Tenant"] = tenant,
        ["Webhooks:Endpoints:0:Url"] = _receiver.Url("hook").ToString(),
        ["Webhooks:Endpoints:0:Secret"] = Secret,
    };

    private Task<WebhookHost> DispatcherAsync(Dictionary<string, string?> overrides) => WebhookHost.StartAsync(_redis, overrides);

    // A job ended by the real script: one that failed its checks records batch.failed as it is created.
    private async Task<string> FailedJobAsync(string tenant)
    {
        var jobId = JobIds.New();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await new RedisJobStore(_redis.Multiplexer, TimeProvider.System)
            .CreateFailedAsync(new NewJob(jobId, tenant, "/v1/chat/completions", "file-x", "24h", now, now + 86_400, 1), [LineError.InvalidJson(1)], Ct);
        return jobId;
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        PipelineHost.WaitUntilAsync(condition, TimeSpan.FromSeconds(15), what);
}
