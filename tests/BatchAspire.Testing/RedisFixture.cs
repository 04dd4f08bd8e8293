using System.Collections.Concurrent;
using StackExchange.Redis;

namespace BatchAspire.Testing;

/// <summary>
/// One redis-server per test assembly (register it with <c>[assembly: AssemblyFixture(typeof(RedisFixture))]</c>), and a
/// database of its own for each test that asks (<see cref="IsolatedAsync"/>). The schedules (<c>ba:poll:due</c>,
/// <c>ba:chunks:delayed</c>, ...) are global keys, so tests sharing one database would see each other's work; a logical
/// database per test isolates every key without a server per test or a FLUSHALL between tests, and lets them run in parallel.
/// </summary>
/// <remarks>
/// Started on first use rather than in an <c>IAsyncLifetime</c>, so this library needs no xunit reference and an assembly
/// whose tests never ask for Redis starts no server. xunit disposes it (IAsyncDisposable) after the assembly's last test.
/// </remarks>
public sealed class RedisFixture : IAsyncDisposable
{
    /// <summary>Redis's default is 16; tests hold one each while they run, and database 0 is nobody's.</summary>
    public const int Databases = 512;

    private readonly Lazy<Task<LocalRedisServer>> _server = new(() => LocalRedisServer.StartAsync(Databases));
    // First in, first out: a database released just now is the last one handed out again, so a connection a finished
    // test left running a moment longer cannot write into the next test's keys.
    private readonly ConcurrentQueue<int> _free = new(Enumerable.Range(1, Databases - 1));
    private readonly SemaphoreSlim _available = new(Databases - 1);

    /// <summary>A blob store beside the server, in a temporary folder (blob names carry fresh ids, so tests share it).</summary>
    public TempBlobStore Blobs { get; } = new();

    /// <summary>
    /// A fresh, empty database no other running test holds, on a connection whose <c>GetDatabase()</c> is that database
    /// (the code under test calls it without an index). Dispose it at the end of the test.
    /// </summary>
    public async Task<IsolatedRedis> IsolatedAsync(CancellationToken cancellationToken = default)
    {
        var server = await _server.Value;
        await _available.WaitAsync(cancellationToken);
        if (!_free.TryDequeue(out var database)) throw new InvalidOperationException("The database pool and its count disagree.");
        void Release()
        {
            _free.Enqueue(database);
            _available.Release();
        }

        try
        {
            var options = ConfigurationOptions.Parse(server.ConnectionString);
            options.DefaultDatabase = database;
            options.AbortOnConnectFail = true;
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
            // A database is reused once the pool has gone round; whatever its last test left is not this test's.
            await multiplexer.GetDatabase().ExecuteAsync("FLUSHDB");
            return new IsolatedRedis(server, multiplexer, database, Release);
        }
        catch
        {
            Release();
            throw;
        }
    }

    /// <summary>A tenant id no other test uses.</summary>
    public static string NewTenant() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async ValueTask DisposeAsync()
    {
        if (_server.IsValueCreated) await (await _server.Value).DisposeAsync();
        Blobs.Dispose();
        _available.Dispose();
    }
}

/// <summary>One test's own database on the assembly's redis-server (see <see cref="RedisFixture.IsolatedAsync"/>).</summary>
public sealed class IsolatedRedis : IAsyncDisposable
{
    private readonly LocalRedisServer _server;
    private readonly Action _release;

    internal IsolatedRedis(LocalRedisServer server, ConnectionMultiplexer multiplexer, int database, Action release)
    {
        _server = server;
        _release = release;
        Multiplexer = multiplexer;
        Database = database;
    }

    /// <summary>A connection whose default database is this test's: hand it to the code under test.</summary>
    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>The database index.</summary>
    public int Database { get; }

    /// <summary>This test's database.</summary>
    public IDatabase Db => Multiplexer.GetDatabase();

    /// <summary>For hosts that make their own connection: it selects this test's database.</summary>
    public string ConnectionString => $"{_server.ConnectionString},defaultDatabase={Database}";

    /// <summary>Every key of this test's database (never another test's), for the "leaves nothing behind" tests.</summary>
    public Task<HashSet<string>> KeysAsync(string pattern = "*") => _server.KeysAsync(Database, pattern);

    public async ValueTask DisposeAsync()
    {
        try
        {
            // Frees the memory now rather than when the pool comes round to this database again.
            await Db.ExecuteAsync("FLUSHDB");
        }
        catch (RedisException)
        {
            // The server may be gone already (the fixture is torn down); the next taker flushes anyway.
        }
        finally
        {
            await Multiplexer.DisposeAsync();
            _release();
        }
    }
}
