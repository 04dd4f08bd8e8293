using System.Globalization;

namespace BatchAspire.Core.Jobs;

/// <summary>A job hash as read from Redis (field names in <see cref="JobFields"/>).</summary>
public sealed class JobRecord(string id, IReadOnlyDictionary<string, string> fields)
{
    public string Id { get; } = id;

    public IReadOnlyDictionary<string, string> Fields { get; } = fields;

    public string? this[string field] => Fields.TryGetValue(field, out var value) ? value : null;

    public string Tenant => this[JobFields.Tenant] ?? "";

    public string Status => this[JobFields.Status] ?? JobStatus.Validating;

    public long? GetInt64(string field) =>
        long.TryParse(this[field], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    public double? GetDouble(string field) =>
        double.TryParse(this[field], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;
}

/// <summary>One page of a tenant's batch list, newest first.</summary>
public sealed record JobPage(IReadOnlyList<JobRecord> Data, bool HasMore);

/// <summary>What a cancel request found and did.</summary>
/// <param name="Found">False when the job is unknown or another tenant's.</param>
/// <param name="PreviousStatus">The status before the request.</param>
/// <param name="Cancelling">True when this request moved the job to <c>cancelling</c>.</param>
public sealed record CancelOutcome(bool Found, string? PreviousStatus, bool Cancelling);
