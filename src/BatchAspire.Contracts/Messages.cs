namespace BatchAspire.Contracts;

// The namespace and type names below are the messages' identity on the wire
// (urn:message:BatchAspire.Contracts:JobAccepted): do not move or rename them casually.
// Messages carry ids only; payloads live in Redis.

/// <summary>The intake stored a job durably; the submitter may split and submit it.</summary>
public sealed record JobAccepted
{
    public required string JobId { get; init; }
}

/// <summary>A chunk is ready to go to the provider (a first attempt, or a retry of failed requests).</summary>
public sealed record ChunkReady
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
}

/// <summary>The provider accepted a chunk as a batch; the poller now watches it.</summary>
public sealed record ChunkSubmitted
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
    public required string ProviderBatchId { get; init; }
}

/// <summary>A chunk's provider batch reached a terminal status.</summary>
public sealed record ChunkFinished
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
    public required string ProviderBatchId { get; init; }
    public required string ProviderStatus { get; init; }
}

/// <summary>Requests of a finished chunk failed for a transient reason and were put in a new chunk.</summary>
public sealed record RequestsRetryable
{
    public required string JobId { get; init; }
    public required string ChunkId { get; init; }
}

/// <summary>Every request of a job is final and its output and error files are written.</summary>
public sealed record JobFinished
{
    public required string JobId { get; init; }
    public required string Status { get; init; }
}

/// <summary>A user asked to cancel a job.</summary>
public sealed record JobCancelRequested
{
    public required string JobId { get; init; }
}
