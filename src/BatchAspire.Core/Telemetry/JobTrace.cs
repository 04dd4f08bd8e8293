using System.Diagnostics;

namespace BatchAspire.Core.Telemetry;

/// <summary>
/// Tag names shared by every service, so one job's spans can be found by the same keys in the dashboard.
/// Tags carry ids and statuses only: never prompts, results, file bodies or keys.
/// </summary>
public static class TelemetryTags
{
    public const string JobId = "batchaspire.job_id";
    public const string ChunkId = "batchaspire.chunk_id";
    public const string ProviderBatchId = "batchaspire.provider_batch_id";
    public const string ProviderStatus = "batchaspire.provider_status";
    public const string Outcome = "batchaspire.outcome";
}

/// <summary>Continues a job's trace from the W3C <c>traceparent</c> stored in its job hash.</summary>
public static class JobTrace
{
    /// <summary>
    /// Starts <paramref name="name"/> as a child of the job's stored trace context. Work driven by a timer
    /// (a poll) has no incoming message to carry the context, so without this every poll would start a new
    /// trace and the dashboard would lose the one-trace-per-job view.
    /// </summary>
    public static Activity? StartJobActivity(this ActivitySource source, string name, string? traceparent,
        ActivityKind kind = ActivityKind.Internal)
    {
        if (!string.IsNullOrEmpty(traceparent) &&
            ActivityContext.TryParse(traceparent, traceState: null, isRemote: true, out var parent))
        {
            return source.StartActivity(name, kind, parent);
        }
        return source.StartActivity(name, kind);
    }
}
