using System.Diagnostics.Metrics;
using BatchAspire.Intake.Monitoring;
using Microsoft.Extensions.DependencyInjection;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Monitoring;

/// <summary>
/// The operator gauges against a Redis of their own: what the snapshot reads after a batch is accepted, and that the
/// exported gauges report it (through a MeterListener on this intake's meters only).
/// </summary>
public sealed class OperatorGaugeTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _app = new IntakeApp(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Intake:Quotas:Default:MaxOpenBatches"] = "4",
            ["Intake:Quotas:Default:MaxPendingRequests"] = "100",
        });
        _ = _app.Server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task<string> AcceptBatchAsync(string key, int requests)
    {
        using var client = _app.CreateClient(key);
        var file = await UploadAsync(client, TestJsonl.File([.. TestJsonl.VariedRequests(requests)]));
        return (await CreateBatchAsync(client, file["id"].Str()!))["id"].Str()!;
    }

    [Fact]
    public async Task PollLagIsMeasuredOnTheRedisClockThatSetTheDueTimes()
    {
        var db = _redis.Db;
        var redisNow = await BatchAspire.Core.Redis.RedisClock.NowAsync(db);
        await db.SortedSetAddAsync(BatchAspire.Core.Redis.RedisKeys.PollDue, "lagging-chunk", redisNow.ToUnixTimeMilliseconds() - 5_000);
        var reader = _app.Services.GetRequiredService<OperatorSnapshotReader>();
        var quotas = _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IntakeOptions>>().Value.Quotas;

        var snapshot = await reader.ReadAsync([], quotas.For);

        Assert.InRange(snapshot.PollLag, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        Assert.InRange(snapshot.ReadAt, redisNow, redisNow.AddSeconds(30));
    }

    [Fact]
    public async Task TheSnapshotCountsOpenJobsTheirPendingRequestsAndEachTenantsQuotaUse()
    {
        var (tenant, key) = _app.NewTenant();
        await AcceptBatchAsync(key, 4);
        await AcceptBatchAsync(key, 6);

        var reader = _app.Services.GetRequiredService<OperatorSnapshotReader>();
        var quotas = _app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IntakeOptions>>().Value.Quotas;
        var snapshot = await reader.ReadAsync([tenant], quotas.For);

        Assert.Equal(2, snapshot.OpenJobsByStatus.GetValueOrDefault("validating"));
        Assert.Equal(10, snapshot.RequestsPending);
        Assert.Equal(0, snapshot.RequestsCompleted + snapshot.RequestsFailed);
        Assert.Equal(0, snapshot.ProviderBatchesOpen);
        Assert.InRange(snapshot.OldestOpenJobAge, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        var use = Assert.Single(snapshot.Tenants);
        Assert.Equal((tenant, 2L, 10L, 2L), (use.Tenant, use.OpenBatches, use.PendingRequests, use.Files));
    }

    [Fact]
    public async Task TheGaugesReportTheStateWithinARefreshWithoutAJobIdLabel()
    {
        var (tenant, key) = _app.NewTenant();
        var batchId = await AcceptBatchAsync(key, 3);
        var meters = _app.Services.GetRequiredService<IMeterFactory>();
        var seen = new List<(string Instrument, double Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == OperatorGauges.MeterName && ReferenceEquals(instrument.Meter.Scope, meters)) l.EnableMeasurementEvents(instrument);
            },
        };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (seen) seen.Add((i.Name, v, new Dictionary<string, object?>(tags.ToArray())));
        }
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();

        List<(string Instrument, double Value, Dictionary<string, object?> Tags)> Observe()
        {
            lock (seen) seen.Clear();
            listener.RecordObservableInstruments();
            lock (seen) return [.. seen];
        }
        static double? Value(IEnumerable<(string Instrument, double Value, Dictionary<string, object?> Tags)> measurements,
            string instrument, params (string Key, string Value)[] tags) =>
            measurements.Where(m => m.Instrument == instrument && tags.All(t => Equals(m.Tags.GetValueOrDefault(t.Key), t.Value)))
                .Select(m => (double?)m.Value).FirstOrDefault();

        // The refresher reads every 5 s: within two rounds the batch shows.
        await WaitUntilAsync(() => Value(Observe(), "batchaspire.tenant.batches.open", ("batchaspire.tenant", tenant)) == 1, seconds: 12);
        var measured = Observe();

        Assert.True(Value(measured, "batchaspire.jobs.open", ("batchaspire.job.status", "validating")) >= 1);
        Assert.True(Value(measured, "batchaspire.requests", ("batchaspire.request.state", "pending")) >= 3);
        Assert.Equal(0.25, Value(measured, "batchaspire.tenant.quota.utilization", ("batchaspire.tenant", tenant), ("batchaspire.quota", "open_batches")));
        Assert.Equal(0.03, Value(measured, "batchaspire.tenant.quota.utilization", ("batchaspire.tenant", tenant), ("batchaspire.quota", "pending_requests")));
        Assert.DoesNotContain(measured, m => m.Tags.Values.Any(v => Equals(v, batchId)));
    }
}
