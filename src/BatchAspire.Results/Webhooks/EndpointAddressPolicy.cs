using System.Net;
using System.Net.Sockets;

namespace BatchAspire.Results.Webhooks;

/// <summary>
/// Which addresses a webhook may go to: none of loopback, link-local, private (RFC 1918, shared 100.64/10, IPv6
/// unique-local) or unspecified, unless <see cref="WebhookOptions.AllowPrivateAddresses"/>. Checked at startup on the
/// configured hosts and again on every connection, on the addresses actually resolved then, so a name that later
/// resolves inward (DNS rebinding) is refused too.
/// </summary>
public static class EndpointAddressPolicy
{
    public static bool IsDisallowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6UniqueLocal;
        }
        var b = address.GetAddressBytes();
        return b[0] == 10
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and <= 127)
            || b[0] == 0;
    }

    /// <summary>
    /// The connection step of the webhook HTTP client: resolves the host, keeps only allowed addresses and connects to
    /// the first that answers; none allowed is an error naming the host (never the URL's path or query).
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(bool allowPrivate) =>
        async (context, ct) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
            var allowed = allowPrivate ? addresses : [.. addresses.Where(a => !IsDisallowed(a))];
            if (allowed.Length == 0)
                throw new HttpRequestException($"Webhook host {host} resolves only to loopback, link-local or private addresses (Webhooks:AllowPrivateAddresses is off).");
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}
