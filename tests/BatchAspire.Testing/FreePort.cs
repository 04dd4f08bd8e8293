using System.Net;
using System.Net.Sockets;

namespace BatchAspire.Testing;

public static class FreePort
{
    /// <summary>A loopback TCP port nothing listens on right now (the OS picks it).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
