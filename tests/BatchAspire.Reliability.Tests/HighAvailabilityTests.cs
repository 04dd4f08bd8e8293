using System.Net;
using BatchAspire.Reliability.Tests.Harness;
using StackExchange.Redis;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// The infrastructure loses a node in the middle of a job: one RabbitMQ node of three is SIGKILLed, then the Redis
/// primary, whose replica the Sentinels promote. The services follow by themselves (MassTransit reconnects to a live
/// node, whose quorum queues hold every message; StackExchange.Redis asks the Sentinels for the new primary), and the
/// job ends with every request answered once and no provider batch created twice.
/// </summary>
[Collection(nameof(HighAvailabilityCollection))]
public sealed class HighAvailabilityTests(HighAvailabilityFixture fixture) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    [Fact]
    public async Task ARabbitMQNodeKilledAndRedisFailedOverToItsReplicaMidJobLoseNoRequestAndCreateNoBatchTwice()
    {
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 3 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1600, "ha-failover", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");

        var primaryBefore = await PrimaryPortAsync();
        await fixture.Control.KillAsync(HighAvailabilityFixture.BrokerNodes[0], 0, Ct);
        await fixture.Control.KillAsync(HighAvailabilityFixture.RedisNodes[0], 0, Ct);
        fixture.Ledger.Note("RabbitMQ node killed, Redis failed over", kills: 2);
        Assert.True(await Jobs.WaitUntilAsync(async () => await PrimaryPortAsync() is { } now && now != primaryBefore,
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250), Ct), "the Sentinels never promoted the replica");
        Assert.Equal(fixture.App.GetEndpoint(HighAvailabilityFixture.RedisNodes[1], "tcp").Port, await PrimaryPortAsync());

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "RabbitMQ node killed, Redis failed over", Ct);
    }

    /// <summary>The port of the primary as the first Sentinel names it (null while it cannot tell).</summary>
    private async Task<int?> PrimaryPortAsync()
    {
        var sentinel = fixture.App.GetEndpoint(HighAvailabilityFixture.Sentinels[0], "tcp");
        var options = new ConfigurationOptions
        {
            EndPoints = { { sentinel.Host, sentinel.Port } },
            CommandMap = CommandMap.Sentinel,
            AbortOnConnectFail = false,
            ConnectTimeout = 2000,
        };
        await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var server = connection.GetServer(sentinel.Host, sentinel.Port);
        return await server.SentinelGetMasterAddressByNameAsync("batchaspire") is IPEndPoint primary ? primary.Port : null;
    }
}
