namespace BatchAspire.Results.Webhooks;

// Ids only: a URL's path or query may hold a receiver's token, and a secret never appears anywhere.
internal static partial class WebhookLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook {EventId} ({Type}) of job {JobId} for tenant {Tenant}: try {Attempt} failed at {Host} ({Reason}); next try in {Delay}")]
    public static partial void WillRetry(this ILogger logger, string eventId, string type, string jobId, string tenant, int attempt, string host, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {EventId} ({Type}) of job {JobId} for tenant {Tenant} dead-lettered after {Attempts} tries")]
    public static partial void DeadLettered(this ILogger logger, string eventId, string type, string jobId, string tenant, int attempts);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Webhook {EventId} of job {JobId} delivered to every endpoint of tenant {Tenant}")]
    public static partial void Delivered(this ILogger logger, string eventId, string jobId, string tenant);
}
