namespace BatchAspire.Sandbox;

/// <summary>Log messages carry ids and counts only: never prompts, results or keys.</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipping unreadable state file {Path}")]
    public static partial void UnreadableState(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox data directory {Directory}, executor {Executor}")]
    public static partial void Started(ILogger logger, string directory, string executor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} is {Status} ({Completed} completed, {Failed} failed of {Total})")]
    public static partial void BatchStatusChanged(ILogger logger, string batchId, string status, long completed, long failed, long total);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming batch {BatchId} in status {Status} at request {Done}")]
    public static partial void BatchResumed(ILogger logger, string batchId, string status, long done);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {BatchId} stopped by an unexpected error")]
    public static partial void BatchCrashed(ILogger logger, Exception exception, string batchId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Uploaded file {FileId} ({Bytes} bytes, purpose {Purpose})")]
    public static partial void FileUploaded(ILogger logger, string fileId, long bytes, string purpose);
}
