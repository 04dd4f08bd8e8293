using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BatchAspire.Results.Tests.Webhooks;

/// <summary>
/// The results service's webhooks alone (<c>AddWebhooks</c>, as <c>AddResults</c> calls it) over a test's own Redis
/// database: loopback allowed, fast timings, <paramref name="overrides"/> win. Disposing stops it (bounded) first.
/// </summary>
internal sealed class WebhookHost(IHost host) : IAsyncDisposable
{
    public IServiceProvider Services => host.Services;

    public static async Task<WebhookHost> StartAsync(IsolatedRedis redis, Dictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Webhooks:AllowPrivateAddresses"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:InitialRetryDelay"] = "00:00:00.100",
            ["Webhooks:MaxRetryDelay"] = "00:00:00.300",
            ["Webhooks:Timeout"] = "00:00:01",
            ["Webhooks:Lease"] = "00:00:04",
        };
        foreach (var (key, value) in overrides) settings[key] = value;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "webhooks-tests" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IConnectionMultiplexer>(redis.Multiplexer);
        builder.Services.AddMetrics();
        builder.AddWebhooks();
        var started = builder.Build();
        try
        {
            await started.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            started.Dispose();
            throw;
        }
        return new WebhookHost(started);
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10))) await host.StopAsync(timeout.Token);
        host.Dispose();
    }
}
