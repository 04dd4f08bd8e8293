namespace BatchAspire.Poller.Polling;

internal static partial class PollerLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to poll notices failed; idle replicas find new chunks within MaxIdleDelay")]
    public static partial void SubscribeFailed(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming due chunks failed; retrying shortly")]
    public static partial void ClaimFailed(this ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chunk {ChunkId} of job {JobId} has no provider batch id; polling it again in {Delay}")]
    public static partial void MissingProviderBatchId(this ILogger logger, string chunkId, string jobId, TimeSpan? delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling provider batch {ProviderBatchId} of chunk {ChunkId} failed; polling it again in {Delay}")]
    public static partial void PollFailed(this ILogger logger, Exception exception, string providerBatchId, string chunkId, TimeSpan? delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chunk {ChunkId} was claimed by another replica since this poll began (fence {Fence}); its result was dropped")]
    public static partial void StaleFence(this ILogger logger, string chunkId, long fence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Provider batch {ProviderBatchId} of chunk {ChunkId} is {ProviderStatus}; next poll in {Interval}")]
    public static partial void Polled(this ILogger logger, string providerBatchId, string chunkId, string providerStatus, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Information, Message = "Provider batch {ProviderBatchId} of chunk {ChunkId} (job {JobId}) ended {ProviderStatus}; ChunkFinished published")]
    public static partial void ChunkFinished(this ILogger logger, string providerBatchId, string chunkId, string jobId, string providerStatus);

    [LoggerMessage(Level = LogLevel.Error, Message = "Poll of chunk {ChunkId} failed; its lease will lapse and another poll will follow")]
    public static partial void PollCrashed(this ILogger logger, Exception exception, string chunkId);
}
