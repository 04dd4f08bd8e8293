namespace BatchAspire.Core.Polling;

/// <summary>
/// Fields of the chunk hash (<c>RedisKeys.Chunk(chunkId)</c>) that the poll schedule reads and writes.
/// The submitter writes <see cref="ProviderBatchId"/> before it schedules the chunk.
/// </summary>
public static class ChunkPollFields
{
    public const string ProviderBatchId = "provider_batch_id";

    /// <summary>The provider batch's last polled status (validating, in_progress, …, completed).</summary>
    public const string Status = "status";

    /// <summary>The fencing token of the chunk's current lease; only its holder may write poll results.</summary>
    public const string Fence = "fence";

    public const string ProviderTotal = "provider_total";
    public const string ProviderCompleted = "provider_completed";
    public const string ProviderFailed = "provider_failed";
    public const string ProviderOutputFileId = "provider_output_file_id";
    public const string ProviderErrorFileId = "provider_error_file_id";
    public const string ProviderErrors = "provider_errors";            // JSON array of {code,message,param,line}

    public const string InputTokens = "usage_input_tokens";
    public const string CachedTokens = "usage_cached_tokens";
    public const string OutputTokens = "usage_output_tokens";
    public const string ReasoningTokens = "usage_reasoning_tokens";
    public const string TotalTokens = "usage_total_tokens";

    /// <summary>The interval that chose the current due time (ms); the next interval grows from it.</summary>
    public const string PollIntervalMs = "poll_interval_ms";
    public const string PolledAtMs = "polled_at_ms";
    public const string StatusChangedAtMs = "status_changed_at_ms";

    /// <summary>Provider calls that failed in a row; drives the error back-off and resets on success.</summary>
    public const string PollErrors = "poll_errors";

    /// <summary>Set when the chunk left the schedule for good (terminal and published); scheduling it again is a no-op.</summary>
    public const string PollDoneAtMs = "poll_done_at_ms";
}
