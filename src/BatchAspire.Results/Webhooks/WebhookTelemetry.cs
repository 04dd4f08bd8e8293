using System.Diagnostics.Metrics;

namespace BatchAspire.Results.Webhooks;

/// <summary>The webhook dispatcher's instruments (tags: event type and outcome, never a URL or secret).</summary>
public sealed class WebhookTelemetry
{
    public const string Name = "BatchAspire.Webhooks";

    public WebhookTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        Attempts = meter.CreateCounter<long>("batchaspire.webhooks.attempts", unit: "{attempt}", description: "POSTs of an event to an endpoint, by outcome (delivered, failed).");
        Delivered = meter.CreateCounter<long>("batchaspire.webhooks.delivered", unit: "{event}", description: "Events every endpoint has taken.");
        DeadLettered = meter.CreateCounter<long>("batchaspire.webhooks.dead_lettered", unit: "{event}", description: "Events given up after their last try (kept in ba:webhooks:dead).");
    }

    public Counter<long> Attempts { get; }
    public Counter<long> Delivered { get; }
    public Counter<long> DeadLettered { get; }
}
