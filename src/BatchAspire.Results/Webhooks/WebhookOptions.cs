using System.ComponentModel.DataAnnotations;

namespace BatchAspire.Results.Webhooks;

/// <summary>
/// Webhook endpoints and delivery settings (section <c>Webhooks</c>, docs/webhooks.md). Endpoints are listed per tenant
/// the way <c>Intake:ApiKeys</c> lists keys; a secret cannot be kept as a hash (it signs), so it is configuration to
/// keep out of files checked in: environment, user secrets or a secret store.
/// </summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhooks";

    /// <summary>Every tenant's endpoints; several per tenant, each with its own event filter.</summary>
    public List<WebhookEndpointOptions> Endpoints { get; set; } = [];

    /// <summary>
    /// Whether an endpoint may resolve to a loopback, link-local or private address. Off: BatchAspire must not be a way
    /// into the network it runs in. Tests and a receiver on the same host turn it on.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>How long an event is retried (from when the job ended) before it is dead-lettered.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan RetryFor { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The wait after the first failed try; each further failure doubles it, up to <see cref="MaxRetryDelay"/>, with jitter.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one POST may take (connect to last byte of the answer's headers).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Events delivered at once by one dispatcher.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentDeliveries { get; set; } = 16;

    /// <summary>
    /// How long a claimed event stays hidden from other dispatchers: past it, a dispatcher that died mid-delivery has
    /// its event taken by the next claim. Longer than a try of all of a tenant's endpoints.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the dispatcher looks for due events when the last look found none.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Dead letters are kept this long in Redis.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(7);
}

public sealed class WebhookEndpointOptions
{
    /// <summary>The tenant whose jobs' events go here (as in <c>Intake:ApiKeys</c>).</summary>
    [Required] public string? Tenant { get; set; }

    /// <summary>An absolute http(s) URL. Redirects are not followed.</summary>
    [Required] public string? Url { get; set; }

    /// <summary><c>whsec_</c> + base64 key: the secret a receiver passes to <c>client.webhooks.unwrap</c>.</summary>
    [Required] public string? Secret { get; set; }

    /// <summary>The event types to send here (<c>batch.completed</c>, ...); empty: all four.</summary>
    public List<string> Events { get; set; } = [];

    public bool Wants(string type) => Events.Count == 0 || Events.Contains(type, StringComparer.Ordinal);
}
