using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Reliability.Tests.Harness;
using BatchAspire.Testing;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// Webhooks are delivered at least once through the faults a deployment meets: the results service (which sends them)
/// SIGKILLed while a delivery is in flight, and RabbitMQ stopped and started while events wait for a receiver that was
/// down. Every event arrives, signed, and all its tries carry one <c>webhook-id</c>. Events are durable in Redis from
/// the moment the job ends, so neither fault can lose one; these tests show it on the running system.
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public sealed class WebhookFaultTests(ReliabilityFixture fixture) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    [Fact]
    public async Task ResultsKilledWhileADeliveryIsInFlightSendsTheEventAgainWithTheSameWebhookId()
    {
        // The receiver holds every delivery open: results gives each up after 2 s and tries again.
        fixture.Hooks.Answer = () => null;
        var job = await Jobs.SubmitAsync(fixture, ReliabilityFixture.WebhookTenant, 200, "hook-kill", Ct);
        await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);
        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(DeliveriesOf(job.BatchId).Count > 0),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20), Ct), "the completed job's event was never tried");

        // Kill as soon as a new try arrives, so the kill lands while that try is held open.
        var tries = DeliveriesOf(job.BatchId).Count;
        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(DeliveriesOf(job.BatchId).Count > tries),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10), Ct), "no second try of the event");
        var killed = await fixture.Control.KillAsync(ResourceNames.Results, 0, Ct);
        var triedBeforeRestart = DeliveriesOf(job.BatchId).Count;
        fixture.Hooks.Answer = () => 200;
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("results killed mid webhook delivery", kills: 1, restarts: 1);

        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(AcceptedOf(job.BatchId).Count > 0),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), Ct), "the event never arrived after results came back");
        var deliveries = DeliveriesOf(job.BatchId);
        Assert.True(deliveries.Count > triedBeforeRestart, "the delivered try came after the restart");
        AssertOneEvent(deliveries, "batch.completed", job.BatchId);
    }

    [Fact]
    public async Task EventsWaitingForAReceiverThatWasDownArriveAcrossARabbitMQRestartEachWithOneWebhookId()
    {
        fixture.Hooks.Answer = () => 503;
        var completed = await Jobs.SubmitAsync(fixture, ReliabilityFixture.WebhookTenant, 200, "hook-rabbit-a", Ct);
        var cancelled = await Jobs.SubmitAsync(fixture, ReliabilityFixture.WebhookTenant, 200, "hook-rabbit-b", Ct);
        using (var intake = fixture.CreateIntakeClient())
        {
            intake.DefaultRequestHeaders.Authorization = new("Bearer", fixture.KeyOf(ReliabilityFixture.WebhookTenant));
            (await intake.PostAsync($"v1/batches/{cancelled.BatchId}/cancel", null, Ct)).EnsureSuccessStatusCode();
        }
        await Jobs.WaitForEndAsync(fixture, completed, TimeSpan.FromMinutes(2), Ct);
        var cancelledEnd = await Jobs.WaitForEndAsync(fixture, cancelled, TimeSpan.FromMinutes(2), Ct);
        var cancelledType = "batch." + cancelledEnd.GetProperty("status").GetString();
        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(DeliveriesOf(completed.BatchId).Count > 1 && DeliveriesOf(cancelled.BatchId).Count > 1),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50), Ct), "the events were not being retried against the refusing receiver");

        var broker = fixture.Control.InstancesOf(ResourceNames.Messaging).Single();
        await fixture.Control.StopAsync(broker, Ct);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await fixture.Control.StartAsync(broker, Ct);
        fixture.Ledger.Note("RabbitMQ restarted with webhook events pending", restarts: 1);
        fixture.Hooks.Answer = () => 200;

        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(AcceptedOf(completed.BatchId).Count > 0 && AcceptedOf(cancelled.BatchId).Count > 0),
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100), Ct), "an event never arrived after the receiver came back");
        AssertOneEvent(DeliveriesOf(completed.BatchId), "batch.completed", completed.BatchId);
        AssertOneEvent(DeliveriesOf(cancelled.BatchId), cancelledType, cancelled.BatchId);
        // And the system around the broker recovered: a job submitted after the restart ends and reports too.
        var after = await Jobs.SubmitAsync(fixture, ReliabilityFixture.WebhookTenant, 100, "hook-rabbit-after", Ct);
        await Jobs.WaitForEndAsync(fixture, after, TimeSpan.FromMinutes(2), Ct);
        Assert.True(await Jobs.WaitUntilAsync(() => Task.FromResult(AcceptedOf(after.BatchId).Count > 0),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), Ct), "the event of a job run after the restart never arrived");
    }

    private List<WebhookReceiver.Request> DeliveriesOf(string batchId) =>
        [.. fixture.Hooks.Requests.Where(r => BatchIdOf(r) == batchId)];

    private List<WebhookReceiver.Request> AcceptedOf(string batchId) =>
        [.. fixture.Hooks.Accepted.Where(r => BatchIdOf(r) == batchId)];

    private static string? BatchIdOf(WebhookReceiver.Request request)
    {
        try
        {
            using var body = JsonDocument.Parse(request.Body);
            return body.RootElement.GetProperty("data").GetProperty("id").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Every try of the job's event: one event id, one webhook-id, the expected type, a valid signature.</summary>
    private void AssertOneEvent(IReadOnlyList<WebhookReceiver.Request> deliveries, string type, string batchId)
    {
        Assert.NotEmpty(deliveries);
        Assert.Single(deliveries.Select(d => d.Headers["webhook-id"]).Distinct());
        var verifier = new StandardWebhook(fixture.HookSecret);
        foreach (var delivery in deliveries)
        {
            var headers = new HeaderDictionary();
            foreach (var (name, value) in delivery.Headers) headers[name] = value;
            verifier.Verify(delivery.Body, headers);
            using var body = JsonDocument.Parse(delivery.Body);
            Assert.Equal(type, body.RootElement.GetProperty("type").GetString());
            Assert.Equal(batchId, body.RootElement.GetProperty("data").GetProperty("id").GetString());
            Assert.Equal(delivery.Headers["webhook-id"], body.RootElement.GetProperty("id").GetString());
        }
    }
}
