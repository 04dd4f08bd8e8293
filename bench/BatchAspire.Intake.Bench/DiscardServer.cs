using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.Intake.Bench;

/// <summary>
/// The baseline: the same Kestrel with the intake's transport settings (IntakeExtensions), the same bytes, but every
/// byte is read and dropped. With Kestrel's defaults instead, this endpoint needs twice the CPU per byte.
/// </summary>
internal static class DiscardServer
{
    public static async Task<int> RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<SocketTransportOptions>(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(System.Net.IPAddress.Loopback, port);
        });
        var app = builder.Build();
        app.MapGet("/health", () => "ok");
        app.MapPost("/v1/files", async (HttpContext http) =>
        {
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0) total += read;
            return Results.Text($$"""{"object":"file","bytes":{{total}}}""", "application/json");
        });
        await app.RunAsync();
        return 0;
    }
}
