namespace BatchAspire.Intake;

/// <summary>Log messages with ids and counts only: never keys, file bodies or prompts.</summary>
internal static partial class IntakeLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Stored file {FileId} for tenant {Tenant}: {Bytes} bytes, {Lines} lines")]
    public static partial void FileUploaded(ILogger logger, string fileId, string tenant, long bytes, long lines);

    [LoggerMessage(Level = LogLevel.Information, Message = "Accepted batch {JobId} for tenant {Tenant} on file {FileId} ({Lines} requests)")]
    public static partial void BatchAccepted(ILogger logger, string jobId, string tenant, string fileId, long lines);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {JobId} for tenant {Tenant} failed validation of file {FileId} ({ErrorCount} errors)")]
    public static partial void BatchFailedValidation(ILogger logger, string jobId, string tenant, string fileId, int errorCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused a request of tenant {Tenant}: over its {Limit} quota")]
    public static partial void QuotaExceeded(ILogger logger, string tenant, string limit);

    [LoggerMessage(Level = LogLevel.Error, Message = "Refused an upload of tenant {Tenant}: the blob store is full")]
    public static partial void StorageFull(ILogger logger, string tenant);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused an upload of tenant {Tenant}: the blob store did not answer")]
    public static partial void StorageUnavailable(ILogger logger, string tenant);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {JobId} for tenant {Tenant} is cancelling (was {PreviousStatus})")]
    public static partial void BatchCancelling(ILogger logger, string jobId, string tenant, string previousStatus);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing {MessageType} for job {JobId} failed; the job is stored and will be picked up again")]
    public static partial void PublishFailed(ILogger logger, Exception exception, string messageType, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} stayed validating too long; published JobAccepted again")]
    public static partial void JobRepublished(ILogger logger, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} stayed cancelling too long; published JobCancelRequested again")]
    public static partial void CancelRepublished(ILogger logger, string jobId);


    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} expired files")]
    public static partial void ExpiredFilesDeleted(ILogger logger, int count);


    [LoggerMessage(Level = LogLevel.Warning, Message = "No API keys are configured (Intake:ApiKeys): every request will get 401")]
    public static partial void NoApiKeys(ILogger logger);
}
