using System.Text.Json.Serialization;

namespace BatchAspire.Sandbox.Faults;

/// <summary>
/// Fault knobs. Bound from <c>Sandbox:Faults</c> at start (PascalCase keys) and replaced at run time
/// through <c>PUT /sandbox/faults</c> (the same fields in snake_case). All default to "no fault".
/// </summary>
public sealed class FaultSettings
{
    /// <summary>How long each batch stays <c>validating</c> before its lines are checked.</summary>
    public int ValidationDelayMs { get; set; }

    /// <summary>Added to the execution of every line (lines of one batch run one after another).</summary>
    public int LineLatencyMs { get; set; }

    /// <summary>Fraction of lines answered with an HTTP 429 error line instead of being executed.</summary>
    [JsonPropertyName("line_fail_429_rate")]
    public double LineFail429Rate { get; set; }

    /// <summary>Fraction of lines answered with an HTTP 500 error line.</summary>
    [JsonPropertyName("line_fail_500_rate")]
    public double LineFail500Rate { get; set; }

    /// <summary>Shortens the completion window of new batches to this many seconds.</summary>
    public double? ExpireAfterSeconds { get; set; }

    /// <summary>With <see cref="ExpireAfterSeconds"/>: only the next K batches created get the short window (null = all).</summary>
    public int? ExpireNextBatches { get; set; }

    /// <summary>Fraction of API calls answered 429 (with Retry-After and retry-after-ms).</summary>
    [JsonPropertyName("api_fail_429_rate")]
    public double ApiFail429Rate { get; set; }

    /// <summary>Fraction of API calls answered 500.</summary>
    [JsonPropertyName("api_fail_500_rate")]
    public double ApiFail500Rate { get; set; }

    /// <summary>The next N matching API calls are answered 429.</summary>
    [JsonPropertyName("api_fail_next_429")]
    public int ApiFailNext429 { get; set; }

    /// <summary>The next N matching API calls are answered 500.</summary>
    [JsonPropertyName("api_fail_next_500")]
    public int ApiFailNext500 { get; set; }

    /// <summary>Only API calls whose path starts with this (e.g. <c>/v1/batches</c>) are faulted; null = all.</summary>
    public string? ApiFailPathPrefix { get; set; }

    /// <summary>Only API calls with this HTTP method are faulted; null = all.</summary>
    public string? ApiFailMethod { get; set; }

    /// <summary>Retry-After sent with injected 429s, in whole seconds.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// Holds back the response of matching API calls this long after the call has done its work (the batch is
    /// created, the download has begun): a client that times out or dies meanwhile never learns the outcome.
    /// </summary>
    public int ResponseDelayMs { get; set; }

    /// <summary>Only calls whose path starts with this get <see cref="ResponseDelayMs"/>; null = all.</summary>
    public string? ResponseDelayPathPrefix { get; set; }

    /// <summary>Only calls with this HTTP method get <see cref="ResponseDelayMs"/>; null = all.</summary>
    public string? ResponseDelayMethod { get; set; }

    /// <summary>Only the next N matching calls are delayed (null = every matching call).</summary>
    public int? ResponseDelayNext { get; set; }

    /// <summary>Per model: a batch whose prompt tokens would push the enqueued total past this fails with <c>token_limit_exceeded</c>.</summary>
    public long? EnqueuedTokenLimit { get; set; }

    /// <summary>
    /// Writes the output and error lines of new batches out of input order (each buffered block reversed), as the
    /// Batch API allows: a client that relies on input order fails, and BatchAspire takes its out-of-order path.
    /// </summary>
    public bool OutputOutOfOrder { get; set; }

    /// <summary>
    /// Lines whose custom_id contains this text are refused when a batch is validated, each with its line number, as a
    /// provider refuses lines its own checks catch and the intake's do not: the whole batch fails and lists them.
    /// </summary>
    public string? RefuseCustomIdsContaining { get; set; }

    public FaultSettings Clone() => (FaultSettings)MemberwiseClone();
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(FaultSettings))]
internal sealed partial class FaultJson : JsonSerializerContext;
