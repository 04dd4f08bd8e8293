namespace BatchAspire.Contracts;

// The namespace and type names below are the messages' identity on the wire
// (urn:message:BatchAspire.Contracts:JobAccepted): do not move or rename them casually.
// Messages carry ids only: state lives in Redis, payload in the blob store. Every message has a consumer and one
// meaning; docs/architecture.md (Messages) lists who publishes and who consumes each.

/// <summary>The intake stored a job durably; the submitter may split and submit it.</summary>
public sealed record JobAccepted
{
    public required string JobId { get; init; }
}

/// <summary>A planned chunk is ready to go to the provider: its first attempt, or again after a delay (a refused create, a capacity refusal, a submitter that died).</summary>
public sealed record ChunkReady
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
}

/// <summary>A chunk's provider batch reached a terminal status (completed, failed, expired, cancelled): its output and error files can be read.</summary>
public sealed record ChunkFinished
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
    public required string ProviderBatchId { get; init; }
    public required string ProviderStatus { get; init; }
}

/// <summary>
/// A chunk closed without a provider batch (a cancel or an expiry reached it before it was submitted): it never will
/// have one, and its requests end with the chunk's close reason.
/// </summary>
public sealed record ChunkClosed
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
}

/// <summary>Requests of a finished chunk failed for a transient reason or expired, and were put in a successor chunk to submit.</summary>
public sealed record RequestsRetryable
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
}

/// <summary>A user asked to cancel a job.</summary>
public sealed record JobCancelRequested
{
    public required string JobId { get; init; }
}
