namespace BatchAspire.Core.Jobs;

/// <summary>
/// Job hashes in Redis. Methods serving a client request take the tenant; another tenant's id answers like an unknown
/// id. <see cref="GetAsync"/> is the workers' lookup by id. The job's life starts here: its creation and a client's
/// cancel are named transitions of this store. Whatever moves a job, here or in a worker's store, its script writes
/// the hash only through <c>Redis/Lua/lib/job.lua</c>, whose table says which status may follow which
/// (docs/architecture.md, "Who writes each record").
/// </summary>
public interface IJobStore
{
    /// <summary>
    /// Accepts a job: stores it <c>validating</c> atomically with the tenant's list, <c>ba:jobs:validating</c> (scored by
    /// now, in ms) and the tenant's open-work counters, and returns it as stored. Throws
    /// <see cref="Tenants.QuotaExceededException"/>, storing nothing, when it would take the tenant past <paramref name="quota"/>.
    /// </summary>
    Task<JobRecord> CreateAsync(NewJob job, Tenants.TenantQuota? quota = null, CancellationToken ct = default);

    /// <summary>
    /// Stores a job whose input file failed the checks: <c>failed</c> from the start with <paramref name="errors"/>,
    /// counting no requests and no open work. Returns it as stored.
    /// </summary>
    Task<JobRecord> CreateFailedAsync(NewJob job, IReadOnlyList<Jsonl.LineError> errors, CancellationToken ct = default);

    /// <summary>
    /// Tenant-scoped lookup: another tenant's id answers null. The record carries the job's chunk counters
    /// (<see cref="JobRecord.Chunks"/>), read in the same round trip.
    /// </summary>
    Task<JobRecord?> FindAsync(string tenant, string jobId, CancellationToken ct = default);

    /// <summary>Lookup by id for workers.</summary>
    Task<JobRecord?> GetAsync(string jobId, CancellationToken ct = default);

    /// <summary>
    /// A page of the tenant's jobs, newest first, after <paramref name="after"/>, each with its chunk counters; null when
    /// that is not one of the tenant's jobs.
    /// </summary>
    Task<JobPage?> ListAsync(string tenant, int limit, string? after, CancellationToken ct = default);

    /// <summary>
    /// Moves a <c>validating</c>, <c>in_progress</c> or <c>finalizing</c> job to <c>cancelling</c> (setting
    /// <c>cancelling_at</c> once) as lib/job.lua's table allows, in one script; other statuses are left alone.
    /// </summary>
    Task<CancelOutcome> RequestCancelAsync(string tenant, string jobId, long now, CancellationToken ct = default);

    /// <summary>
    /// Claims jobs that have been in <c>ba:jobs:validating</c> since before <paramref name="olderThan"/>
    /// and are still <c>validating</c>: their score moves to now, so each is claimed once per bound
    /// (across intake replicas). Entries whose job has moved on or is gone are removed.
    /// </summary>
    Task<IReadOnlyList<string>> ClaimStaleValidatingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default);

    /// <summary>
    /// The same for <c>ba:jobs:cancelling</c>: jobs still <c>cancelling</c> whose cancel was sent before
    /// <paramref name="olderThan"/> (a lost <c>JobCancelRequested</c>, or provider batches slow to cancel).
    /// </summary>
    Task<IReadOnlyList<string>> ClaimStaleCancellingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default);
}
