namespace BatchAspire.Submitter.Submitting;

internal static partial class SubmitterLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Planned {Chunks} chunks for job {JobId}")]
    public static partial void Planned(this ILogger logger, string jobId, long chunks);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} is unknown or has no input file; nothing to plan")]
    public static partial void JobNotPlannable(this ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created provider batch {ProviderBatchId} for chunk {ChunkId} (attempt {Attempt})")]
    public static partial void ProviderBatchCreated(this ILogger logger, string providerBatchId, string chunkId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chunk {ChunkId} already has provider batch {ProviderBatchId} (found by metadata); not creating another")]
    public static partial void ProviderBatchRecovered(this ILogger logger, string chunkId, string providerBatchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider refused chunk {ChunkId} (HTTP {Status}); trying again in {Delay}")]
    public static partial void Refused(this ILogger logger, string chunkId, int status, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Create of chunk {ChunkId} failed or went unanswered; looking it up again in {Delay}")]
    public static partial void CreateUncertain(this ILogger logger, Exception exception, string chunkId, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Provider rejected chunk {ChunkId} for good (HTTP {Status}, {Code}); closing it")]
    public static partial void Rejected(this ILogger logger, string chunkId, int status, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider batch {ProviderBatchId} of chunk {ChunkId} is not needed (chunk closed or already submitted); cancelling it")]
    public static partial void OrphanBatch(this ILogger logger, string providerBatchId, string chunkId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk {ChunkId} is being submitted elsewhere; it is due again when that lease lapses")]
    public static partial void ChunkBusy(this ILogger logger, string chunkId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk {ChunkId} closed without a provider batch ({Reason})")]
    public static partial void ChunkClosed(this ILogger logger, string chunkId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped job {JobId} for cancel: {Closed} chunks closed, {Cancelled} provider batches cancelled")]
    public static partial void JobCancelled(this ILogger logger, string jobId, int closed, int cancelled);

}
