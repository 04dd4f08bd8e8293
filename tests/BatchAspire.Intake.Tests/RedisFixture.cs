using StackExchange.Redis;

namespace BatchAspire.Intake.Tests;

/// <summary>One redis-server for the whole assembly; tests isolate themselves with fresh tenants and ids.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private LocalRedisServer? _server;

    /// <summary>The blob store beside the server, in a temporary folder.</summary>
    public TempBlobStore Blobs { get; } = new();

    public LocalRedisServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public ConnectionMultiplexer Multiplexer => Server.Multiplexer;

    public string ConnectionString => Server.ConnectionString;

    public async ValueTask InitializeAsync() => _server = await LocalRedisServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        Blobs.Dispose();
    }

    public static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Every key of the server (for the "leaves nothing behind" tests, which own their server).</summary>
    public static async Task<HashSet<string>> KeysAsync(LocalRedisServer server)
    {
        var keys = new HashSet<string>();
        var endpoint = server.Multiplexer.GetEndPoints()[0];
        await foreach (var key in server.Multiplexer.GetServer(endpoint).KeysAsync(pattern: "*")) keys.Add((string)key!);
        return keys;
    }
}
