using System.ComponentModel.DataAnnotations;

namespace BatchAspire.Results.Processing;

/// <summary>Results settings (section <c>Results</c>).</summary>
public sealed class ResultsOptions
{
    public const string SectionName = "Results";

    /// <summary>
    /// Attempts a request gets before a transient failure (429, 5xx, expired or provider-cancelled) is final; for a model
    /// with a route, the tries it gets at each provider of the route before it goes to the next (<see cref="ProviderFallback"/>).
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Replaces every job's 24 h completion window (tests use seconds).</summary>
    public TimeSpan? CompletionWindowOverride { get; set; }

    /// <summary>
    /// After the completion window, how long an expiring job waits for its cancelled provider batches to hand back
    /// their partial output before it ends with what it has.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ExpiryGrace { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often open jobs are checked against their completion window.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a chunk whose provider batch ended (the poller published its <c>ChunkFinished</c>) may show no sign of a
    /// results pass before it is announced again: the message may have been lost by the broker (a purged queue, a lost
    /// disk), and nothing else would ever read the chunk's results. A pass under way shows life when it starts and every
    /// quarter of this while it works, so only a chunk nobody is working on is announced again; a second announcement
    /// of a chunk that is being stored changes nothing (its results are completed once). Chunks waiting in a long queue
    /// behind others are announced again too, and cost a read each when their turn comes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "1.00:00:00")]
    public TimeSpan RepublishFinishedAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a chunk refused for capacity (<c>token_limit_exceeded</c>) waits before it is submitted again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CapacityRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether a chunk's files at the provider (its input, output and error files) are deleted once its results are
    /// stored: BatchAspire keeps what it needs in its own stores, and a provider counts stored files against the account.
    /// </summary>
    public bool DeleteProviderFiles { get; set; } = true;

    /// <summary>How long a provider file whose delete failed waits before the next try.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ProviderFileRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest result line accepted from the provider.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxResultLineBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>
    /// Finished (or closed) chunks one replica stores at once. Downloads stream through a pipe with fixed buffers, so
    /// memory stays flat; the provider's download latency, not CPU, is what more of them hide.
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentChunks { get; set; } = 3;
}
