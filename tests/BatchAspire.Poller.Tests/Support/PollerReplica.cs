using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BatchAspire.Poller.Tests.Support;

/// <summary>
/// One poller replica as its own host in this process: its own Redis connection, provider HttpClient and
/// in-memory bus harness, wired by the same AddProviderClient/AddPoller calls as Program.cs.
/// </summary>
public sealed class PollerReplica : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly ConnectionMultiplexer _redis;
    private bool _stopped;

    private PollerReplica(string name, IHost host, ConnectionMultiplexer redis)
    {
        Name = name;
        _host = host;
        _redis = redis;
    }

    public string Name { get; }

    public ITestHarness Harness => _host.Services.GetTestHarness();

    public IServiceProvider Services => _host.Services;

    /// <summary>Fast settings for tests: 1 s intervals without back-off, a 2 s lease.</summary>
    public static Dictionary<string, string?> TestSettings(Uri providerBaseUrl) => new()
    {
        ["Provider:BaseUrl"] = providerBaseUrl.ToString(),
        ["Provider:ApiKey"] = "sk-test-poller",
        ["Provider:AttemptTimeout"] = "00:00:05",
        ["Provider:TotalTimeout"] = "00:00:10",
        ["Provider:RetryDelay"] = "00:00:00.050",
        ["Poller:MaxConcurrentPolls"] = "8",
        ["Poller:Lease"] = "00:00:02",
        ["Poller:IdleDelay"] = "00:00:00.050",
        ["Poller:ValidatingInterval"] = "00:00:01",
        ["Poller:InitialInterval"] = "00:00:01",
        ["Poller:BackoffFactor"] = "1",
        ["Poller:MaxInterval"] = "00:00:01",
        ["Poller:ErrorInterval"] = "00:00:00.500",
    };

    public static async Task<PollerReplica> StartAsync(string name, string redisConnectionString,
        IDictionary<string, string?> settings, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = $"poller-{name}",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        var redis = await ConnectionMultiplexer.ConnectAsync($"{redisConnectionString},abortConnect=true");
        builder.Services.AddSingleton<IConnectionMultiplexer>(redis);
        // Before AddPoller, as AddBatchBus is in Program.cs: hosted services stop in reverse order, so the bus
        // outlives the polls that finish during shutdown.
        builder.Services.AddMassTransitTestHarness();
        builder.AddProviderClient();
        // Innermost handler: tags every attempt with the replica, so the fake provider can tell replicas apart.
        builder.Services.AddHttpClient(ProviderClientExtensions.HttpClientName)
            .AddHttpMessageHandler(() => new ReplicaHeaderHandler(name));
        builder.AddPoller();

        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new PollerReplica(name, host, redis);
    }

    /// <summary>
    /// Dies without a clean shutdown: the Redis connection goes first, so nothing it holds is released or
    /// written back, then the host is torn down.
    /// </summary>
    public async Task KillAsync()
    {
        _redis.Dispose();
        await StopAsync();
    }

    public async Task StopAsync()
    {
        if (_stopped) return;
        _stopped = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
        _redis.Dispose();
    }

    private sealed class ReplicaHeaderHandler(string replica) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(FakeProvider.ReplicaHeader, replica);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
