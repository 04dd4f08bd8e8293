using System.Globalization;

namespace BatchAspire.Core.Jobs;

/// <summary>
/// A job hash as read from Redis (field names in <see cref="JobFields"/>), with its chunk counters where the read asked
/// for them and the job has been planned.
/// </summary>
public sealed class JobRecord(string id, IReadOnlyDictionary<string, string> fields, JobChunkCounts? chunks = null)
{
    public string Id { get; } = id;

    public IReadOnlyDictionary<string, string> Fields { get; } = fields;

    /// <summary>The job's chunk counters (<c>ba:{jobId}:chunkstats</c>); null before planning or when not read.</summary>
    public JobChunkCounts? Chunks { get; } = chunks;

    public string? this[string field] => Fields.TryGetValue(field, out var value) ? value : null;

    public string Tenant => this[JobFields.Tenant] ?? "";

    public string Status => this[JobFields.Status] ?? JobStatus.Validating;

    public long? GetInt64(string field) =>
        long.TryParse(this[field], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public double? GetDouble(string field) =>
        double.TryParse(this[field], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>
/// How many chunks the job has (retries and capacity successors included) and how many of them have their results
/// stored. <see cref="Open"/> is the rest: waiting to be submitted, at the provider, or having their results read.
/// </summary>
public sealed record JobChunkCounts(long Total, long Done)
{
    public long Open => Math.Max(0, Total - Done);
}

/// <summary>One page of a tenant's batch list, newest first.</summary>
public sealed record JobPage(IReadOnlyList<JobRecord> Data, bool HasMore);

/// <summary>What a cancel request found and did.</summary>
/// <param name="Found">False when the job is unknown or another tenant's.</param>
/// <param name="PreviousStatus">The status before the request.</param>
/// <param name="Cancelling">True when this request moved the job to <c>cancelling</c>.</param>
public sealed record CancelOutcome(bool Found, string? PreviousStatus, bool Cancelling);
