using System.Diagnostics.Metrics;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Telemetry;
using BatchAspire.Core.Tenants;
using BatchAspire.Intake.Auth;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Monitoring;

/// <summary>
/// The gauges an operator reads (docs/monitoring.md, "Metrics"). They report the last <see cref="OperatorSnapshot"/>
/// that <see cref="OperatorSnapshotRefresher"/> read, so an export or a scrape never touches Redis. Labels are bounded:
/// job status, request state, tenant (from configuration) and quota kind; never a job id.
/// </summary>
internal sealed class OperatorGauges
{
    public const string MeterName = "BatchAspire.Operations";   // matched by ServiceDefaults' AddMeter("BatchAspire.*")

    /// <summary>The statuses of a job not yet ended: the bounded label set of <c>batchaspire.jobs.open</c>.</summary>
    public static readonly string[] OpenStatuses = [JobStatus.Validating, JobStatus.InProgress, JobStatus.Finalizing, JobStatus.Cancelling];

    private volatile OperatorSnapshot _snapshot = OperatorSnapshot.Empty;

    public OperatorGauges(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        // Every open status, 0 included: OpenTelemetry keeps exporting a label set's last value once it is no longer
        // observed (cumulative), so a status left out when its last job moved on would go on reading 1.
        meter.CreateObservableGauge("batchaspire.jobs.open", () => OpenStatuses.Select(status =>
                Measure(_snapshot.OpenJobsByStatus.GetValueOrDefault(status), "batchaspire.job.status", status)),
            unit: "{job}", description: "Jobs not yet ended, by status (validating, in_progress, finalizing, cancelling).");
        meter.CreateObservableGauge("batchaspire.requests", () =>
        {
            var s = _snapshot;
            return (IEnumerable<Measurement<long>>)[Measure(s.RequestsPending, "batchaspire.request.state", "pending"),
                    Measure(s.RequestsCompleted, "batchaspire.request.state", "completed"),
                    Measure(s.RequestsFailed, "batchaspire.request.state", "failed")];
        }, unit: "{request}", description: "Requests of the open jobs, by state.");
        meter.CreateObservableGauge("batchaspire.provider.batches.open", () => _snapshot.ProviderBatchesOpen,
            unit: "{batch}", description: "Provider batches submitted and not yet seen ending (chunks on the poll schedule).");
        meter.CreateObservableGauge("batchaspire.chunks.delayed", () => _snapshot.ChunksDelayed,
            unit: "{chunk}", description: "Chunks waiting to be submitted again (provider capacity refusals, failed uploads).");
        meter.CreateObservableGauge("batchaspire.poll.lag", () => _snapshot.PollLag.TotalSeconds,
            unit: "s", description: "How late the most overdue chunk's poll is (0 when the pollers keep up).");
        meter.CreateObservableGauge("batchaspire.jobs.oldest_open.age", () => _snapshot.OldestOpenJobAge.TotalSeconds,
            unit: "s", description: "Age of the oldest job not yet ended.");
        meter.CreateObservableGauge("batchaspire.tenant.storage.usage", () => PerTenant(t => t.StoredBytes),
            unit: "By", description: "Bytes of files each tenant stores.");
        meter.CreateObservableGauge("batchaspire.tenant.files", () => PerTenant(t => t.Files),
            unit: "{file}", description: "Files each tenant stores.");
        meter.CreateObservableGauge("batchaspire.tenant.batches.open", () => PerTenant(t => t.OpenBatches),
            unit: "{batch}", description: "Batches of each tenant not yet ended.");
        meter.CreateObservableGauge("batchaspire.tenant.requests.pending", () => PerTenant(t => t.PendingRequests),
            unit: "{request}", description: "Requests of each tenant not yet answered.");
        meter.CreateObservableGauge("batchaspire.tenant.quota.utilization", () => _snapshot.Tenants.SelectMany(Utilization),
            unit: "1", description: "Fraction of each tenant's quota in use (only quotas with a limit); 1 means the next request is refused.");
    }

    public void Update(OperatorSnapshot snapshot) => _snapshot = snapshot;

    private static IEnumerable<Measurement<double>> Utilization(TenantUse t)
    {
        if (t.Quota.MaxStoredBytes is > 0 and var bytes) yield return Ratio(t.StoredBytes, bytes, t.Tenant, "stored_bytes");
        if (t.Quota.MaxFiles is > 0 and var files) yield return Ratio(t.Files, files, t.Tenant, "files");
        if (t.Quota.MaxOpenBatches is > 0 and var batches) yield return Ratio(t.OpenBatches, batches, t.Tenant, "open_batches");
        if (t.Quota.MaxPendingRequests is > 0 and var requests) yield return Ratio(t.PendingRequests, requests, t.Tenant, "pending_requests");
    }

    private static Measurement<double> Ratio(long used, long max, string tenant, string quota) =>
        new((double)used / max, new KeyValuePair<string, object?>(TelemetryTags.Tenant, tenant), new KeyValuePair<string, object?>("batchaspire.quota", quota));

    private static Measurement<long> Measure(long value, string key, string label) =>
        new(value, new KeyValuePair<string, object?>(key, label));

    private IEnumerable<Measurement<long>> PerTenant(Func<TenantUse, long> value) =>
        _snapshot.Tenants.Select(t => Measure(value(t), TelemetryTags.Tenant, t.Tenant));
}

/// <summary>
/// Reads the operator snapshot every <see cref="Interval"/> (one short pipelined read, parentless: no trace, see
/// IdleLoopSampler) and hands it to the gauges. The intake runs it because it knows the tenants and their quotas.
/// </summary>
internal sealed class OperatorSnapshotRefresher(
    OperatorSnapshotReader reader, OperatorGauges gauges, ApiKeyRegistry keys, IOptions<IntakeOptions> options,
    TimeProvider time, ILogger<OperatorSnapshotRefresher> logger) : Core.Hosting.Sweeper(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    protected override async Task<bool> SweepRoundAsync(CancellationToken ct)
    {
        gauges.Update(await reader.ReadAsync(keys.Tenants, options.Value.Quotas.For));
        return false;
    }
}

internal static class OperatorGaugeExtensions
{
    /// <summary>The operator gauges (jobs, requests, provider batches, poll lag, oldest job, tenant quotas) and their refresher.</summary>
    public static IHostApplicationBuilder AddOperatorGauges(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<OperatorSnapshotReader>();
        builder.Services.AddSingleton<OperatorGauges>();
        builder.Services.AddHostedService<OperatorSnapshotRefresher>();
        return builder;
    }
}
