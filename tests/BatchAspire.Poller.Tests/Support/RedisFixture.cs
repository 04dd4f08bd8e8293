using StackExchange.Redis;

namespace BatchAspire.Poller.Tests.Support;

/// <summary>One redis-server for the assembly. The poll schedule is one global key, so each test starts from an empty database.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public LocalRedisServer Server { get; private set; } = null!;

    public IDatabase Database => Server.Multiplexer.GetDatabase();

    public async ValueTask InitializeAsync() => Server = await LocalRedisServer.StartAsync();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    public async Task FlushAsync()
    {
        await Server.Multiplexer.GetServer(Server.Multiplexer.GetEndPoints()[0]).ExecuteAsync("FLUSHALL");
    }
}
