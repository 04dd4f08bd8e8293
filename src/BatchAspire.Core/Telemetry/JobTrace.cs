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
    /// <summary>The routed provider a chunk went to (its name under Providers, or "default").</summary>
    public const string Provider = "batchaspire.provider";
    public const string ProviderStatus = "batchaspire.provider_status";
    public const string Outcome = "batchaspire.outcome";
    public const string Tenant = "batchaspire.tenant";
    public const string FileId = "batchaspire.file_id";
}

/// <summary>
/// One trace per job: it starts when the job is created, as a root span named <c>batch {id}</c> (ids are all the
/// name carries), and every later stage continues it from the W3C <c>traceparent</c> stored in the job hash.
/// </summary>
public static class JobTrace
{
    /// <summary>
    /// Starts <paramref name="name"/> as a child of the job's stored trace context. Work driven by a timer
    /// (a poll) has no incoming message to carry the context, so without this every poll would start a new
    /// trace and the dashboard would lose the one-trace-per-job view.
    /// </summary>
    public static Activity? StartJobRoot(this ActivitySource source, string jobId, string tenantId)
    {
        // The request that creates the job is linked, not the parent: the trace must start at the job so the
        // dashboard lists it under the job's name, and the request's own trace stays a short HTTP trace.
        var request = Activity.Current;
        Activity.Current = null;
        var activity = source.StartActivity(ActivityKind.Internal, parentContext: default,
            tags: [new(TelemetryTags.JobId, jobId), new(TelemetryTags.Tenant, tenantId)],
            links: request is null ? null : [new ActivityLink(request.Context)], name: $"batch {jobId}");
        if (activity is null) Activity.Current = request;
        return activity;
    }

    public static Activity? StartJobActivity(this ActivitySource source, string name, string? traceparent,
        ActivityKind kind = ActivityKind.Internal, DateTimeOffset startTime = default)
    {
        if (!string.IsNullOrEmpty(traceparent) &&
            ActivityContext.TryParse(traceparent, traceState: null, isRemote: true, out var parent))
        {
            return source.StartActivity(kind, parent, startTime: startTime, name: name);
        }
        return source.StartActivity(kind, startTime: startTime, name: name);
    }
}
