using System.Text.Json.Serialization;

namespace BatchAspire.Sandbox.Storage;

public static class BatchStatus
{
    public const string Validating = "validating";
    public const string Failed = "failed";
    public const string InProgress = "in_progress";
    public const string Finalizing = "finalizing";
    public const string Completed = "completed";
    public const string Expired = "expired";
    public const string Cancelling = "cancelling";
    public const string Cancelled = "cancelled";

    public static bool IsTerminal(string status) =>
        status is Completed or Failed or Expired or Cancelled;
}

public sealed record BatchError(string Code, string Message, string? Param, long? Line);

/// <summary>
/// One batch: the wire fields plus the runner's checkpoint. Mutated only under <see cref="Gate"/>;
/// persisted whole (it stays small: errors are capped and results live in their own files).
/// </summary>
public sealed class BatchState
{
    [JsonIgnore] public Lock Gate { get; } = new();

    /// <summary>Serialises writers of this batch's state file (API cancel vs runner).</summary>
    [JsonIgnore] public Lock SaveGate { get; } = new();

    /// <summary>Set when a message batch is deleted, under <see cref="SaveGate"/>: no save writes its file again.</summary>
    [JsonIgnore] public bool Deleted { get; set; }

    /// <summary>Fires when a cancel is accepted, to cut short validation delays.</summary>
    [JsonIgnore] public CancellationTokenSource CancelSignal { get; } = new();

    public required string Id { get; init; }
    public required string Project { get; init; }
    public required long Seq { get; init; }
    public required string Endpoint { get; init; }
    public required string InputFileId { get; init; }
    public string CompletionWindow { get; init; } = "24h";
    public required string Status { get; set; }
    public string? Model { get; set; }
    public Dictionary<string, string>? Metadata { get; init; }
    public List<BatchError>? Errors { get; set; }
    public string? OutputFileId { get; set; }
    public string? ErrorFileId { get; set; }

    public required long CreatedAt { get; init; }
    public long? InProgressAt { get; set; }
    public required long ExpiresAt { get; init; }
    public long? FinalizingAt { get; set; }
    public long? CompletedAt { get; set; }
    public long? FailedAt { get; set; }
    public long? ExpiredAt { get; set; }
    public long? CancellingAt { get; set; }
    public long? CancelledAt { get; set; }

    public long Total { get; set; }
    public long Completed { get; set; }
    public long Failed { get; set; }
    public long InputTokens { get; set; }
    public long CachedTokens { get; set; }
    public long OutputTokens { get; set; }
    public long ReasoningTokens { get; set; }

    // Message batches only: requests never run, by reason (their lines are among the failed ones).
    public long CanceledRequests { get; set; }
    public long ExpiredRequests { get; set; }

    /// <summary>A batch of Anthropic's Message Batches API (docs/sandbox.md, "Message Batches"), not an OpenAI batch.</summary>
    [JsonIgnore] public bool IsMessageBatch => Endpoint == MessageBatchEndpoint;

    public const string MessageBatchEndpoint = "/v1/messages";

    /// <summary>
    /// <see cref="AzureSurface"/> for a batch created on an Azure OpenAI resource's surface (<c>/openai/v1</c>): its lines are
    /// checked by Azure's rules (100,000 lines, <c>url</c> with or without <c>/v1</c>); null on OpenAI's.
    /// </summary>
    public string? Surface { get; init; }

    public const string AzureSurface = "azure";

    [JsonIgnore] public bool IsAzure => Surface == AzureSurface;

    /// <summary>Seconds after their creation that the result files expire (<c>output_expires_after</c>).</summary>
    public long? OutputExpiresAfter { get; init; }

    // Fault settings fixed at creation, so a restart or a later knob change does not alter a running batch.
    public required long CreatedAtMs { get; init; }
    public required long ExpiresAtMs { get; init; }
    public int ValidationDelayMs { get; init; }
    public int LineLatencyMs { get; init; }
    public double Fail429Rate { get; init; }
    public double Fail500Rate { get; init; }
    public bool OutputOutOfOrder { get; init; }

    // Checkpoint: everything before these positions is in the result files up to these sizes.
    public long InputOffset { get; set; }
    public long InputLine { get; set; }
    public long OutputBytes { get; set; }
    public long ErrorBytes { get; set; }
    public long OutputLines { get; set; }
    public long ErrorLines { get; set; }
    public long CheckpointInputTokens { get; set; }
    public long CheckpointCachedTokens { get; set; }
    public long CheckpointOutputTokens { get; set; }
    public long CheckpointReasoningTokens { get; set; }
    public long CheckpointCanceledRequests { get; set; }
    public long CheckpointExpiredRequests { get; set; }

    /// <summary>Prompt tokens this batch holds against the enqueued-token limit while it runs.</summary>
    public long ReservedTokens { get; set; }

    /// <summary>Final status chosen when execution stopped (completed, expired or cancelled), kept for a crash during finalizing.</summary>
    public string? EndStatus { get; set; }
    public string? PlannedOutputFileId { get; set; }
    public string? PlannedErrorFileId { get; set; }
}
