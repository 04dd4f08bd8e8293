namespace BatchAspire.Conformance;

/// <summary>
/// A server under conformance test, reached only over HTTP. The Sandbox's tests and the intake's
/// tests each derive the conformance classes they qualify for and hand them a target; a capability
/// a server lacks is a class it does not derive, so nothing is skipped silently:
/// <list type="bullet">
/// <item><see cref="FilesAndBatchesApiConformance"/>: every server of the API.</item>
/// <item><see cref="RequestExecutionConformance"/>: the server runs batches to completion by itself.</item>
/// <item><see cref="ProviderLimitsConformance"/>: the server enforces the per-batch 200 MB / 50,000-line limits (a provider, not the intake).</item>
/// <item><see cref="ProviderControlConformance"/>: the target can slow batches, shorten the completion window and inject 429s (<see cref="IProviderControl"/>).</item>
/// <item><see cref="EnforcedAuthConformance"/> or <see cref="OpenAccessConformance"/>: whether API keys are enforced.</item>
/// </list>
/// </summary>
public abstract class ConformanceTarget
{
    /// <summary>The base URL an SDK would be given; it ends with <c>/v1</c>.</summary>
    public abstract Uri BaseUrl { get; }

    /// <summary>A key for a fresh, empty account, so that list tests see only their own objects.</summary>
    public abstract Task<string> NewApiKeyAsync(CancellationToken ct);

    public virtual HttpClient CreateHttpClient() =>
        new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }) { Timeout = TimeSpan.FromMinutes(3) };
}

/// <summary>Test-only control over a provider's pace and failures (a capability only some targets have).</summary>
public interface IProviderControl
{
    /// <summary>Metadata for a batch that stays <c>validating</c> for <paramref name="validationDelay"/> and then takes <paramref name="perLine"/> per request.</summary>
    Task<IReadOnlyDictionary<string, string>> SlowBatchMetadataAsync(TimeSpan validationDelay, TimeSpan perLine, CancellationToken ct);

    /// <summary>Metadata for a batch whose completion window ends <paramref name="after"/> its creation, with <paramref name="perLine"/> per request.</summary>
    Task<IReadOnlyDictionary<string, string>> ExpiringBatchMetadataAsync(TimeSpan after, TimeSpan perLine, CancellationToken ct);

    /// <summary>Makes the next <paramref name="count"/> calls whose path starts with <paramref name="pathPrefix"/> (from the server root) answer 429.</summary>
    Task RateLimitNextCallsAsync(string method, string pathPrefix, int count, int retryAfterSeconds, CancellationToken ct);
}
