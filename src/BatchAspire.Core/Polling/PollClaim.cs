using BatchAspire.Core.Redis;

namespace BatchAspire.Core.Polling;

/// <summary>
/// One leased chunk: until <see cref="LeaseUntilMs"/> no other claimer sees it, and only a caller holding
/// <see cref="Fence"/> can write its poll result. Times are Redis server time (unix ms), shared by all replicas.
/// </summary>
public sealed record PollClaim
{
    public required string ChunkId { get; init; }
    public required long Fence { get; init; }

    /// <summary>The due time the chunk had when it was claimed (a lapsed lease counts as due at its expiry).</summary>
    public required long DueAtMs { get; init; }

    public required long ClaimedAtMs { get; init; }
    public required long LeaseUntilMs { get; init; }

    public string? ProviderBatchId { get; init; }

    /// <summary>The routed provider of the chunk's batch (<c>ChunkFields.Provider</c>); null: the default provider.</summary>
    public string? Provider { get; init; }

    /// <summary>The chunk's status before this poll (the provider status of the last poll, or what the submitter wrote).</summary>
    public string? PreviousStatus { get; init; }

    /// <summary>The interval that chose this due time, if an earlier poll set one.</summary>
    public TimeSpan? PreviousInterval { get; init; }

    /// <summary>Requests the provider had answered (completed + failed) at the last poll, if there was one.</summary>
    public long? PreviousDone { get; init; }

    /// <summary>When the last poll's result was written (Redis time, unix ms), if there was one.</summary>
    public long? PreviousPolledAtMs { get; init; }

    /// <summary>The job's stored W3C traceparent, so the poll span joins the job's trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>When the provider accepted the chunk's batch (Redis time, unix ms), if the submitter recorded it.</summary>
    public long? SubmittedAtMs { get; init; }

    public string JobId => ChunkIds.JobOf(ChunkId);

    public TimeSpan Lease => TimeSpan.FromMilliseconds(LeaseUntilMs - ClaimedAtMs);

    /// <summary>How late the poll starts against its due time.</summary>
    public TimeSpan Lag => TimeSpan.FromMilliseconds(Math.Max(0, ClaimedAtMs - DueAtMs));
}

/// <summary>The chunks one claim took, with the server time and the earliest remaining due time.</summary>
public sealed record PollClaimBatch(IReadOnlyList<PollClaim> Claims, long NowMs, long? NextDueMs);
