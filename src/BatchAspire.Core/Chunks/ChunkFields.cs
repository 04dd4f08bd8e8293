namespace BatchAspire.Core.Chunks;

/// <summary>
/// Fields of the chunk hash (<c>RedisKeys.Chunk(chunkId)</c>) that the submitter and results own. The poll
/// schedule's fields (<c>provider_batch_id</c>, <c>status</c>, <c>fence</c>, counts, usage, provider file ids)
/// are in <see cref="Polling.ChunkPollFields"/>.
/// </summary>
public static class ChunkFields
{
    /// <summary><see cref="ChunkKinds.Range"/> (lines <c>first</c> .. <c>first+count-1</c>) or <see cref="ChunkKinds.List"/> (line indexes in <c>:lines</c>).</summary>
    public const string Kind = "kind";
    public const string First = "first";
    public const string Count = "count";

    /// <summary>The request attempt this chunk carries: 1 for planned chunks, one more than its parent for a retry chunk.</summary>
    public const string Attempt = "attempt";

    /// <summary>The chunk this one re-sends (retry or capacity refusal); absent for planned chunks.</summary>
    public const string Parent = "parent";

    /// <summary>The input file uploaded to the provider for this chunk (reused after a refused create).</summary>
    public const string ProviderFileId = "provider_file_id";

    /// <summary>
    /// The routed provider (a name under <c>Providers</c>) the chunk's batch went to, set with the first create and kept:
    /// its poller, results and cancel go to that provider. Absent: the default provider (section <c>Provider</c>).
    /// </summary>
    public const string Provider = "provider";

    /// <summary>
    /// Which try at <see cref="Provider"/> this chunk is (1, 2, …), set with <see cref="Provider"/> on a retry chunk of a
    /// routed model (docs/pipeline.md, "Per-line fallback"); absent: the chunk's <see cref="Attempt"/>.
    /// </summary>
    public const string ProviderTry = "provider_try";

    /// <summary>Unix ms of the first create call for this chunk: from then on, a create is preceded by a lookup by metadata.</summary>
    public const string CreateStartedAtMs = "create_started_at_ms";

    public const string SubmittedAtMs = "submitted_at_ms";

    /// <summary>Token and expiry (unix ms) of the submit lease: one submitter at a time works on a chunk.</summary>
    public const string SubmitLease = "submit_lease";
    public const string SubmitLeaseUntilMs = "submit_lease_until_ms";

    /// <summary>Refused creates and failed uploads in a row: drives the back-off of the next try.</summary>
    public const string Refusals = "refusals";

    /// <summary>Set when the chunk ended without a provider batch (cancel, expiry, or a create the provider rejected for good).</summary>
    public const string Closed = "closed";

    /// <summary>Why a chunk was closed: <c>batch_cancelled</c>, <c>batch_expired</c> or the provider's error code.</summary>
    public const string CloseReason = "close_reason";

    /// <summary>Set once results stored this chunk's outcome (finals, successor); a redelivered ChunkFinished then changes nothing.</summary>
    public const string ResultsDone = "results_done";

    /// <summary>The chunk results created to carry this chunk's retryable requests, if any.</summary>
    public const string Successor = "successor";

    /// <summary>
    /// The chunk's result runs (see <c>ResultRunWriter</c>): the run id, and its lines, bytes, first and last line index,
    /// as "id lines bytes first last". Recorded with <see cref="ResultsDone"/>, absent when the run is empty.
    /// </summary>
    public const string OutputRun = "output_run";
    public const string ErrorRun = "error_run";

    /// <summary>Usage summed from the chunk's result lines (used when the provider's batch object has no usage).</summary>
    public const string LineInputTokens = "line_input_tokens";
    public const string LineCachedTokens = "line_cached_tokens";
    public const string LineOutputTokens = "line_output_tokens";
    public const string LineReasoningTokens = "line_reasoning_tokens";
}

public static class ChunkKinds
{
    public const string Range = "range";
    public const string List = "list";
}

/// <summary>The <c>batchaspire_*</c> metadata keys naming a provider batch's job, chunk and attempt.</summary>
public static class ChunkMetadata
{
    public const string Job = "batchaspire_job";
    public const string Chunk = "batchaspire_chunk";
    public const string Attempt = "batchaspire_attempt";
}
