using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BatchAspire.AppHost.Infrastructure;

/// <summary>
/// Healthy when the server on a loopback port answers a protocol greeting. A bare TCP connect is not
/// enough: the listen socket accepts before the server is ready to serve.
/// </summary>
internal sealed class ProtocolHealthCheck(Func<int> port, byte[] greeting, Func<byte[], int, bool> isReady) : IHealthCheck
{
    public static ProtocolHealthCheck RedisPing(Func<int> port) =>
        new(port, "PING\r\n"u8.ToArray(), (reply, length) => length >= 5 && reply.AsSpan(0, 5).SequenceEqual("+PONG"u8));

    // An AMQP 0-9-1 server answers the protocol header with a method frame (frame type 1: Connection.Start).
    public static ProtocolHealthCheck AmqpHandshake(Func<int> port) =>
        new(port, "AMQP\0\0\x09\x01"u8.ToArray(), (reply, length) => length >= 1 && reply[0] == 1);

    // Any status line is an answer: Azurite refuses an unauthenticated list with 403, which still means it serves.
    public static ProtocolHealthCheck HttpAnswers(Func<int> port, string path) =>
        new(port, System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
            (reply, length) => length >= 9 && reply.AsSpan(0, 5).SequenceEqual("HTTP/"u8));

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port(), timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(greeting, timeout.Token);
            var reply = new byte[64];
            var length = await stream.ReadAsync(reply, timeout.Token);
            return isReady(reply, length) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("not ready");
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy(e.GetType().Name);
        }
    }
}
