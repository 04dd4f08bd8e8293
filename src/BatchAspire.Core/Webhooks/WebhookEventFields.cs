namespace BatchAspire.Core.Webhooks;

/// <summary>The fields of a job's webhook event hash (<c>ba:{jobId}:event</c>), written only by <c>lib/webhook_event.lua</c>.</summary>
public static class WebhookEventFields
{
    /// <summary>The event id (<c>evt_…</c>), also the <c>webhook-id</c> of every try.</summary>
    public const string Id = "id";
    /// <summary><c>batch.completed</c>, <c>batch.failed</c>, <c>batch.expired</c> or <c>batch.cancelled</c>.</summary>
    public const string Type = "type";
    public const string Job = "job";
    public const string Tenant = "tenant";
    /// <summary>When the job ended (unix seconds): the event's <c>created_at</c>.</summary>
    public const string CreatedAt = "created_at";
    /// <summary>When the event was recorded (unix ms): its retries are bounded from here.</summary>
    public const string FirstAt = "first_at";
    /// <summary>Delivery rounds that left an endpoint without the event.</summary>
    public const string Attempts = "attempts";
    /// <summary>When it was dead-lettered (unix ms).</summary>
    public const string DeadAt = "dead_at";
    /// <summary>Prefix of the field (<c>"to " + url</c>) marking an endpoint that took the event.</summary>
    public const string DeliveredToPrefix = "to ";
    /// <summary>The value of a <see cref="DeliveredToPrefix"/> field.</summary>
    public const string Delivered = "ok";
    /// <summary>The event types a terminal status sends (the Lua table in lib/webhook_event.lua).</summary>
    public const string TypeCompleted = "batch.completed";
    public const string TypeFailed = "batch.failed";
    public const string TypeExpired = "batch.expired";
    public const string TypeCancelled = "batch.cancelled";
}
