using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>
/// Sockets that live in a named Linux network namespace (<c>ip netns</c>), so the test process, running in the root
/// namespace, talks to the system as a client on that namespace would: through its interface and the bridge. A socket
/// belongs to the namespace of the thread that created it; a short-lived thread enters the namespace, creates the
/// socket and leaves, and the socket stays there for its whole life.
/// </summary>
public sealed class NetworkNamespace(string name)
{
    private const int CloneNewNet = 0x40000000;
    private const int ReadOnly = 0;

    public string Name { get; } = name;

    /// <summary>
    /// An HTTP client whose connections start in this namespace. A request to <paramref name="logicalHost"/> is sent to
    /// the first of <paramref name="addresses"/> that accepts a connection (a client that knows every intake replica and
    /// fails over when one is gone); any other host is connected to as given.
    /// </summary>
    public HttpClient CreateHttpClient(string? logicalHost = null, IReadOnlyList<IPAddress>? addresses = null) =>
        new(new SocketsHttpHandler
        {
            // A killed host's pooled connections are dropped soon, so the next request connects afresh.
            PooledConnectionLifetime = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectCallback = async (context, ct) =>
            {
                IReadOnlyList<IPAddress> candidates = context.DnsEndPoint.Host == logicalHost && addresses is not null
                    ? addresses
                    : [IPAddress.Parse(context.DnsEndPoint.Host)];
                Exception? last = null;
                foreach (var address in candidates)
                {
                    var socket = CreateSocket();
                    try
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        timeout.CancelAfter(TimeSpan.FromSeconds(3));
                        await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), timeout.Token);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
                    {
                        socket.Dispose();
                        last = e;
                    }
                }
                throw new HttpRequestException($"no address of {context.DnsEndPoint.Host} in {Name} accepted a connection", last);
            },
        })
        { Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>
    /// A loopback port of the test process whose every connection is carried on to <paramref name="target"/> from inside
    /// the namespace: for clients that cannot be given a socket (StackExchange.Redis, the Azure SDK). Disposing it stops
    /// accepting and closes every carried connection.
    /// </summary>
    public TcpForward Forward(IPEndPoint target) => new(this, target);

    /// <summary>A TCP socket created inside the namespace.</summary>
    public Socket CreateSocket()
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { socket = CreateInNamespace(); }
            catch (Exception e) { failure = e; }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot create a socket in network namespace {Name}", failure);
    }

    private Socket CreateInNamespace()
    {
        var home = Open("/proc/thread-self/ns/net");
        var target = Open($"/var/run/netns/{Name}");
        try
        {
            Enter(target);
            try
            {
                return new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            finally
            {
                // Back home before the thread ends, so nothing else ever runs in the namespace on it.
                Enter(home);
            }
        }
        finally
        {
            _ = Close(home);
            _ = Close(target);
        }
    }

    private static int Open(string path)
    {
        var fd = OpenFile(path, ReadOnly);
        return fd >= 0 ? fd : throw new IOException($"open {path}: errno {Marshal.GetLastPInvokeError()}");
    }

    private static void Enter(int fd)
    {
        if (SetNs(fd, CloneNewNet) != 0) throw new IOException($"setns: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenFile([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}

/// <summary>A loopback listener in the test process; each connection is joined to a new one from the namespace to the target.</summary>
public sealed class TcpForward : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    internal TcpForward(NetworkNamespace network, IPEndPoint target)
    {
        _listener.Start();
        _accepting = AcceptAsync(network, target);
    }

    public IPEndPoint Local => (IPEndPoint)_listener.LocalEndpoint;

    private async Task AcceptAsync(NetworkNamespace network, IPEndPoint target)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { return; }
            _ = CarryAsync(network, target, client);
        }
    }

    private async Task CarryAsync(NetworkNamespace network, IPEndPoint target, Socket client)
    {
        using var near = new NetworkStream(client, ownsSocket: true);
        var socket = network.CreateSocket();
        try
        {
            await socket.ConnectAsync(target, _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            return;
        }
        using var far = new NetworkStream(socket, ownsSocket: true);
        try
        {
            // Either direction ending ends the pair; the other copy then fails on its closed stream.
            await Task.WhenAny(near.CopyToAsync(far, _stop.Token), far.CopyToAsync(near, _stop.Token));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // A connection dropped at either end.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
