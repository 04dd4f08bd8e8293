using System.Net.Http.Headers;
using System.Text.Json;
using BatchAspire.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// One AppHost with two replicas of every service (intake, submitter, poller, results), as
/// <c>--Parameters:&lt;service&gt;-replicas=2</c> runs it, and timings short enough that a lost message is announced
/// again within seconds. It keeps every replica's console lines apart (which replica did what) and opens Redis,
/// RabbitMQ and the Sandbox to the tests.
/// </summary>
public sealed class ScaleOutFixture : IAsyncLifetime
{
    public const int Replicas = 2;

    /// <summary>How long a finished chunk's results may show no life before results announces it again.</summary>
    public static readonly TimeSpan RepublishFinishedAfter = TimeSpan.FromSeconds(4);

    public static readonly string[] ReplicatedServices = [ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];

    private ResourceWatch _watch = null!;

    public DistributedApplication App { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-scaleout-").FullName;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    /// <summary>The broker's amqp:// URI, as the services get it.</summary>
    public string MessagingConnectionString { get; private set; } = "";

    /// <summary>How long the AppHost took from build to every replica healthy.</summary>
    public TimeSpan StartTime { get; private set; }

    public Uri IntakeBaseUrl => new(App.GetEndpoint(ResourceNames.Intake, "http"), "v1");

    /// <summary>Console lines of every replica so far: the resource's name, the replica's id, the line.</summary>
    public IReadOnlyCollection<(string Resource, string ResourceId, string Line)> ConsoleLogs => _watch.ConsoleLogs;

    public async ValueTask InitializeAsync()
    {
        var started = DateTime.UtcNow;
        string[] args =
        [
            "Infra:Mode=process", $"Infra:DataDirectory={DataDirectory}",
            .. ReplicatedServices.Select(s => $"Parameters:{s}-replicas={Replicas}"),
            // A job of a few thousand requests is a dozen chunks: work for every replica of every service.
            "Submitter:MaxLinesPerChunk=250",
            "Submitter:FirstPollDelay=00:00:00.300",
            "Poller:InitialInterval=00:00:00.300",
            "Poller:ValidatingInterval=00:00:00.300",
            "Poller:MaxInterval=00:00:01",
            $"Results:RepublishFinishedAfter={RepublishFinishedAfter:c}",
            "Results:SweepInterval=00:00:00.500",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(args);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        App = await builder.BuildAsync();
        _watch = new ResourceWatch(App);
        // Nine services and three servers on two cores: bounded generously, as a loaded machine starts them slowly.
        await App.StartAsync().WaitAsync(TimeSpan.FromMinutes(4));
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4)))
        {
            foreach (var resource in new[] { ResourceNames.Cache, ResourceNames.Messaging, ResourceNames.Sandbox })
                await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            // WaitForResourceHealthyAsync returns with the first healthy replica: wait for every one.
            while (!ReplicatedServices.All(s => HealthyInstancesOf(s) == Replicas))
            {
                await Task.Delay(200, timeout.Token);
            }
        }
        StartTime = DateTime.UtcNow - started;
        Redis = await ConnectionMultiplexer.ConnectAsync((await App.GetConnectionStringAsync(ResourceNames.Cache))!);
        MessagingConnectionString = (await App.GetConnectionStringAsync(ResourceNames.Messaging))!;
    }

    /// <summary>The ids of the replicas of <paramref name="name"/> (Aspire's rebuilder companions left out).</summary>
    public IReadOnlyList<string> InstancesOf(string name) => _watch.InstancesOf(name);

    private int HealthyInstancesOf(string name) =>
        InstancesOf(name).Count(id => _watch.StateOf(id)?.Snapshot.HealthStatus == HealthStatus.Healthy);

    /// <summary>Per replica of <paramref name="service"/>, how many of its console lines contain <paramref name="text"/>.</summary>
    public Dictionary<string, int> LinesPerReplica(string service, string text) =>
        InstancesOf(service).ToDictionary(id => id,
            id => _watch.ConsoleLogs.Count(l => l.ResourceId == id && l.Line.Contains(text, StringComparison.Ordinal)), StringComparer.Ordinal);

    /// <summary>Every batch at the Sandbox (the workers' default provider key), all pages.</summary>
    public async Task<IReadOnlyList<JsonElement>> ProviderBatchesAsync(CancellationToken ct)
    {
        using var http = App.CreateHttpClient(ResourceNames.Sandbox, "http");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sandbox");
        var all = new List<JsonElement>();
        string? after = null;
        for (var page = 0; page < 1_000; page++)
        {
            var list = JsonDocument.Parse(await http.GetStringAsync(after is null ? "/v1/batches?limit=100" : $"/v1/batches?limit=100&after={after}", ct)).RootElement.Clone();
            var data = list.GetProperty("data").EnumerateArray().ToList();
            all.AddRange(data);
            if (!list.GetProperty("has_more").GetBoolean() || data.Count == 0) return all;
            after = data[^1].GetProperty("id").GetString();
        }
        throw new InvalidOperationException("the Sandbox's batch list did not end");
    }

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null) await _watch.DisposeAsync();
        if (Redis is not null) await Redis.DisposeAsync();
        if (App is not null)
        {
            try
            {
                await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            }
            catch (TimeoutException)
            {
                // Disposing below still ends every process.
            }
            await App.DisposeAsync();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(nameof(ScaleOutCollection))]
public sealed class ScaleOutCollection : ICollectionFixture<ScaleOutFixture>;
