using System.Diagnostics;
using StackExchange.Redis;

namespace BatchAspire.Testing;

/// <summary>
/// A throwaway <c>redis-server</c> on a free loopback port with persistence off, for tests that
/// need a real Redis but not the whole AppHost. Tests share one per assembly through <see cref="RedisFixture"/>,
/// each in a database of its own, rather than starting one each.
/// </summary>
public sealed class LocalRedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private LocalRedisServer(Process process, string directory, int port, ConnectionMultiplexer multiplexer)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Multiplexer = multiplexer;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public ConnectionMultiplexer Multiplexer { get; }

    public static Task<LocalRedisServer> StartAsync(CancellationToken cancellationToken = default) => StartAsync(16, cancellationToken);

    /// <param name="databases">How many logical databases the server has (Redis's default is 16).</param>
    public static async Task<LocalRedisServer> StartAsync(int databases, CancellationToken cancellationToken = default)
    {
        var directory = Directory.CreateTempSubdirectory("batchaspire-redis-").FullName;
        var port = FreePort.Next();
        var startInfo = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", directory,
                             "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction",
                             "--databases", databases.ToString() },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                var multiplexer = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},abortConnect=true,connectTimeout=1000");
                await multiplexer.GetDatabase().PingAsync();
                return new LocalRedisServer(process, directory, port, multiplexer);
            }
            catch (RedisConnectionException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Every key of one database (for tests that check a request leaves nothing behind).</summary>
    public async Task<HashSet<string>> KeysAsync(int database = 0, string pattern = "*")
    {
        var keys = new HashSet<string>();
        await foreach (var key in Multiplexer.GetServer(Multiplexer.GetEndPoints()[0]).KeysAsync(database, pattern)) keys.Add((string)key!);
        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        await Multiplexer.DisposeAsync();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
