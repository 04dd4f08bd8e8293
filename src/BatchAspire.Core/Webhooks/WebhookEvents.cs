using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Webhooks;

/// <summary>A job's webhook event as stored: what to send, where it has gone already, since when it is tried.</summary>
public sealed record StoredWebhookEvent(string JobId, string Id, string Type, string Tenant, long CreatedAt, long FirstAtMs, int Attempts,
    IReadOnlySet<string> DeliveredTo);

/// <summary>How a delivery round of one event ended.</summary>
public enum WebhookRoundOutcome { Done, Retry, Dead }

/// <summary>
/// The webhook events of ended jobs (<c>webhooks/</c> scripts): recorded by the scripts that end a job
/// (<c>jobs/create</c> for one that failed validation, <c>results/commit</c>), claimed from <c>ba:webhooks:due</c> with
/// a lease, and settled here after each delivery round.
/// </summary>
public sealed class WebhookEvents(IConnectionMultiplexer redis)
{
    private static readonly RedisScript SettleScript = RedisScript.Load("webhooks/settle");

    private readonly DueSet _due = new(redis, RedisKeys.WebhooksDue);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>Takes up to <paramref name="max"/> due events (job ids), hidden from other claimers for <paramref name="lease"/>.</summary>
    public Task<DueClaim> ClaimAsync(int max, TimeSpan lease) => _due.ClaimAsync(max, lease);

    /// <summary>The event of a job, or null when it was settled (or never recorded).</summary>
    public async Task<StoredWebhookEvent?> GetAsync(string jobId)
    {
        var entries = await Db.HashGetAllAsync(RedisKeys.WebhookEvent(jobId));
        if (entries.Length == 0) return null;
        var fields = entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);
        var delivered = fields.Keys.Where(k => k.StartsWith(WebhookEventFields.DeliveredToPrefix, StringComparison.Ordinal))
            .Select(k => k[WebhookEventFields.DeliveredToPrefix.Length..]).ToHashSet(StringComparer.Ordinal);
        return new StoredWebhookEvent(jobId, fields[WebhookEventFields.Id], fields[WebhookEventFields.Type], fields[WebhookEventFields.Tenant],
            long.Parse(fields[WebhookEventFields.CreatedAt]), long.Parse(fields[WebhookEventFields.FirstAt]), int.Parse(fields[WebhookEventFields.Attempts]),
            delivered);
    }

    /// <summary>
    /// Settles a round: records the endpoints that took the event now, then forgets it (<see cref="WebhookRoundOutcome.Done"/>),
    /// makes it due at <paramref name="retryAt"/>, or dead-letters it for <paramref name="deadLetterRetention"/>. False when
    /// another dispatcher settled it first.
    /// </summary>
    public async Task<bool> SettleAsync(string jobId, WebhookRoundOutcome outcome, IEnumerable<string> deliveredNow,
        DateTimeOffset retryAt = default, TimeSpan deadLetterRetention = default)
    {
        var args = new List<RedisValue>
        {
            jobId,
            outcome switch { WebhookRoundOutcome.Done => "done", WebhookRoundOutcome.Retry => "retry", _ => "dead" },
            outcome == WebhookRoundOutcome.Retry ? retryAt.ToUnixTimeMilliseconds() : (long)deadLetterRetention.TotalMilliseconds,
        };
        args.AddRange(deliveredNow.Select(url => (RedisValue)url));
        var reply = await SettleScript.EvaluateAsync(Db, [RedisKeys.WebhookEvent(jobId), RedisKeys.WebhooksDue, RedisKeys.WebhooksDead], [.. args]);
        return (string)reply! == "settled";
    }

    /// <summary>Takes a due id whose event is gone out of the due set.</summary>
    public Task RemoveDueAsync(string jobId) => _due.RemoveAsync(jobId);

    /// <summary>How many events are waiting for delivery (due now or later).</summary>
    public Task<long> PendingCountAsync() => Db.SortedSetLengthAsync(RedisKeys.WebhooksDue);

    /// <summary>The dead-lettered events' job ids, oldest first.</summary>
    public async Task<IReadOnlyList<string>> DeadLettersAsync(int max = 100) =>
        [.. (await Db.SortedSetRangeByRankAsync(RedisKeys.WebhooksDead, 0, max - 1)).Select(v => (string)v!)];
}
