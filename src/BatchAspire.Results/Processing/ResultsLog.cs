namespace BatchAspire.Results.Processing;

internal static partial class ResultsLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk {ChunkId} of job {JobId}: {Final} final, {Retry} to retry ({Successor}), {Unknown} lines not of this chunk")]
    public static partial void ChunkProcessed(this ILogger logger, string chunkId, string jobId, long final, int retry, string successor, long unknown);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ChunkFinished for chunk {ChunkId} names provider batch {ProviderBatchId}, not the chunk's; ignored")]
    public static partial void StaleFinished(this ILogger logger, string chunkId, string providerBatchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chunk {ChunkId} or its job is unknown; ChunkFinished ignored")]
    public static partial void UnknownChunk(this ILogger logger, string chunkId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status}: {Completed} completed, {Failed} failed")]
    public static partial void JobEnded(this ILogger logger, string jobId, string status, long completed, long failed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was ended by another writer ({Status}); deleting this writer's files")]
    public static partial void LostFinalize(this ILogger logger, string jobId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} passed its completion window: {Closed} chunks closed, {Cancelled} provider batches cancelled")]
    public static partial void JobExpiring(this ILogger logger, string jobId, int closed, int cancelled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiry sweep failed for job {JobId}")]
    public static partial void SweepFailed(this ILogger logger, Exception exception, string jobId);


    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting provider file {ProviderFileId} failed; a later sweep tries again")]
    public static partial void ProviderFileNotDeleted(this ILogger logger, Exception exception, string providerFileId);



    [LoggerMessage(Level = LogLevel.Warning, Message = "Chunk {ChunkId} of job {JobId} finished (provider batch {ProviderBatchId}) but its results showed no life for {QuietFor}; published ChunkFinished again")]
    public static partial void ChunkFinishedRepublished(this ILogger logger, string chunkId, string jobId, string providerBatchId, TimeSpan quietFor);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not mark the results of chunk {ChunkId} as under way; it may be announced again, which changes nothing")]
    public static partial void ShowLifeFailed(this ILogger logger, Exception exception, string chunkId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No price for the model of job {JobId}; its cost is not recorded")]
    public static partial void NoPrice(this ILogger logger, string jobId);
}
