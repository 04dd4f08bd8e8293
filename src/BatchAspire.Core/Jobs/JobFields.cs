namespace BatchAspire.Core.Jobs;

/// <summary>
/// Field names of the job hash (<c>RedisKeys.Job(jobId)</c>). Where the OpenAI batch object has a
/// field, the hash uses the same name; absent fields read as JSON null. Timestamps are unix seconds.
/// </summary>
public static class JobFields
{
    // Identity and ownership.
    public const string Tenant = "tenant";
    public const string Sequence = "seq";
    public const string TraceParent = "traceparent";

    // Echoed from the create request.
    public const string Endpoint = "endpoint";
    public const string Model = "model";
    public const string InputFileId = "input_file_id";
    public const string CompletionWindow = "completion_window";
    public const string Metadata = "metadata";                       // JSON object text, absent when null
    public const string OutputExpiresAfterSeconds = "output_expires_after_seconds";

    // Status machine.
    public const string Status = "status";
    public const string Errors = "errors";                           // JSON array text of {code,message,param,line}
    public const string OutputFileId = "output_file_id";
    public const string ErrorFileId = "error_file_id";
    public const string CreatedAt = "created_at";
    public const string InProgressAt = "in_progress_at";
    public const string ExpiresAt = "expires_at";
    public const string FinalizingAt = "finalizing_at";
    public const string CompletedAt = "completed_at";
    public const string FailedAt = "failed_at";
    public const string ExpiredAt = "expired_at";
    public const string CancellingAt = "cancelling_at";
    public const string CancelledAt = "cancelled_at";

    // request_counts: total is set when the job is accepted; completed is the live sum the poller
    // keeps over the chunks; failed and the final completed are set by results.
    public const string RequestTotal = "request_total";
    public const string RequestCompleted = "request_completed";
    public const string RequestFailed = "request_failed";

    // usage, summed over the job's chunks and attempts.
    public const string InputTokens = "usage_input_tokens";
    public const string CachedTokens = "usage_cached_tokens";
    public const string OutputTokens = "usage_output_tokens";
    public const string ReasoningTokens = "usage_reasoning_tokens";

    // What the job cost at batch prices, and what it would have cost at standard prices (USD).
    public const string CostBatchUsd = "cost_batch_usd";
    public const string CostStandardUsd = "cost_standard_usd";

    /// <summary>A routed model's cost ledger per provider (<c>ProviderLedger</c> JSON), written when the job ends.</summary>
    public const string CostProviders = "cost_providers";

    // Appended by the pipeline.
    // Set (unix seconds) when results found the job past its completion window: nothing more is submitted,
    // open provider batches are cancelled, and the job ends `expired` with the partial output.
    public const string ExpiringAt = "expiring_at";
}

/// <summary>The eight statuses of the OpenAI batch object.</summary>
public static class JobStatus
{
    public const string Validating = "validating";
    public const string Failed = "failed";
    public const string InProgress = "in_progress";
    public const string Finalizing = "finalizing";
    public const string Completed = "completed";
    public const string Expired = "expired";
    public const string Cancelling = "cancelling";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string? status) =>
        status is Completed or Failed or Expired or Cancelled;
}
