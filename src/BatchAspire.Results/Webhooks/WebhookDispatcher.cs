using System.Diagnostics;
using System.Net.Http.Headers;
using BatchAspire.Core.Hosting;
using BatchAspire.Core.Webhooks;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Webhooks;

/// <summary>
/// Delivers the webhook events of ended jobs, at least once. An event is recorded in the script that ends its job, so
/// it is durable before the first try and needs no message; each round claims due events from <c>ba:webhooks:due</c>
/// with a lease (a dispatcher killed mid-delivery leaves its events to the next claim once the lease lapses), POSTs
/// each to the tenant's endpoints that want it and do not have it yet (at most <see cref="WebhookOptions.MaxConcurrentDeliveries"/>
/// at once, each bounded by <see cref="WebhookOptions.Timeout"/>), and settles it: done, due again after an
/// exponential, jittered delay, or dead-lettered once the next try would fall past <see cref="WebhookOptions.RetryFor"/>.
/// Every try of an event carries its event id as <c>webhook-id</c>. It runs beside the consumers and nothing waits for
/// it, so a slow or dead receiver delays only its own events.
/// </summary>
internal sealed class WebhookDispatcher(
    WebhookEvents events,
    WebhookEndpoints endpoints,
    IHttpClientFactory httpClients,
    WebhookTelemetry telemetry,
    IOptions<WebhookOptions> options,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : Sweeper(time, logger)
{
    public const string HttpClientName = "webhooks";

    protected override TimeSpan Interval => options.Value.PollInterval;

    // A full claim means more may be due: the next round starts at once.
    protected override async Task<bool> SweepRoundAsync(CancellationToken ct) =>
        await DeliverDueAsync(ct) == options.Value.MaxConcurrentDeliveries;

    /// <summary>One round: claims up to <see cref="WebhookOptions.MaxConcurrentDeliveries"/> due events and delivers them together; returns how many it claimed.</summary>
    internal async Task<int> DeliverDueAsync(CancellationToken ct)
    {
        var o = options.Value;
        var claim = await events.ClaimAsync(o.MaxConcurrentDeliveries, o.Lease);
        if (claim.Members.Count == 0) return 0;
        // Retry times are set on Redis' clock, like the claim's lease: dispatchers with skewed clocks still agree.
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(claim.Members.Select(member => DeliverAsync(member.Id, () => claim.NowMs + clock.ElapsedMilliseconds, ct)));
        return claim.Members.Count;
    }

    private async Task DeliverAsync(string jobId, Func<long> redisNowMs, CancellationToken ct)
    {
        var stored = await events.GetAsync(jobId);
        if (stored is null)
        {
            await events.RemoveDueAsync(jobId);
            return;
        }
        var targets = endpoints.For(stored.Tenant, stored.Type).Where(e => !stored.DeliveredTo.Contains(e.Url.AbsoluteUri)).ToList();
        var body = new WebhookEvent(stored.Id, stored.Type, stored.CreatedAt, stored.JobId).ToJson();
        var deliveredNow = new List<string>(targets.Count);
        string? failure = null;
        string? failedHost = null;
        foreach (var target in targets)
        {
            var error = await PostAsync(target, stored, body, ct);
            telemetry.Attempts.Add(1, new KeyValuePair<string, object?>("type", stored.Type), new("outcome", error is null ? "delivered" : "failed"));
            if (error is null) deliveredNow.Add(target.Url.AbsoluteUri);
            else (failure, failedHost) = (error, target.Url.Host);
        }
        if (failure is null)
        {
            await events.SettleAsync(jobId, WebhookRoundOutcome.Done, deliveredNow);
            if (targets.Count > 0)
            {
                telemetry.Delivered.Add(1, new KeyValuePair<string, object?>("type", stored.Type));
                Logger.Delivered(stored.Id, jobId, stored.Tenant);
            }
            return;
        }
        var o = options.Value;
        var attempt = stored.Attempts + 1;
        var delay = RetryDelay(attempt, o);
        var nextMs = redisNowMs() + (long)delay.TotalMilliseconds;
        if (nextMs > stored.FirstAtMs + (long)o.RetryFor.TotalMilliseconds)
        {
            if (await events.SettleAsync(jobId, WebhookRoundOutcome.Dead, deliveredNow, deadLetterRetention: o.DeadLetterRetention))
            {
                telemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("type", stored.Type));
                Logger.DeadLettered(stored.Id, stored.Type, jobId, stored.Tenant, attempt);
            }
            return;
        }
        await events.SettleAsync(jobId, WebhookRoundOutcome.Retry, deliveredNow, retryAt: DateTimeOffset.FromUnixTimeMilliseconds(nextMs));
        Logger.WillRetry(stored.Id, stored.Type, jobId, stored.Tenant, attempt, failedHost!, failure, delay);
    }

    /// <summary>One POST; null when the endpoint took it (2xx), else why not. Cancelled only when the dispatcher stops.</summary>
    private async Task<string?> PostAsync(WebhookEndpoint target, StoredWebhookEvent stored, byte[] body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in target.Signer.Sign(stored.Id, Time.GetUtcNow(), body)) request.Headers.TryAddWithoutValidation(name, value);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Value.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return "timed out";
        }
        catch (HttpRequestException exception)
        {
            return exception.HttpRequestError.ToString();
        }
    }

    /// <summary>The wait before try <paramref name="attempt"/> + 1: the initial delay doubled per failure, capped, then 50–100% of it at random (jitter spreads a burst of retries).</summary>
    internal static TimeSpan RetryDelay(int attempt, WebhookOptions o)
    {
        var doubled = o.InitialRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(doubled, o.MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() * 0.5));
    }
}
