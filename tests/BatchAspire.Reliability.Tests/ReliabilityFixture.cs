using System.Security.Cryptography;
using System.Text;
using BatchAspire.Contracts;
using BatchAspire.EndToEnd.Tests;
using BatchAspire.Reliability.Tests.Harness;
using BatchAspire.Storage;
using BatchAspire.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// One running AppHost for the whole reliability collection (idiom 18): local redis-server and rabbitmq-server,
/// the Sandbox behind a non-default API key, tenants whose keys exist only in this process (the intake sees
/// their SHA-256), leases and timeouts short enough that a crash is recovered from in seconds, and every
/// service's OTLP export and console log captured so a test can search them. Scenarios kill and restart
/// services of this one system; each leaves it healthy and fault-free for the next.
/// </summary>
public class ReliabilityFixture : IAsyncLifetime
{
    public static readonly string[] Services =
        [ResourceNames.Sandbox, ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];

    public static readonly string[] InfrastructureAndServices = [ResourceNames.Cache, ResourceNames.Messaging, .. Services];

    /// <summary>Tenants configured in the intake, each with a key made up for this run.</summary>
    public static readonly string[] TenantNames = ["alpha", "bravo", "charlie", "corpus", "chaos", "leak", WebhookTenant];

    /// <summary>The tenant with a webhook endpoint: <see cref="Hooks"/>, on loopback (allowed for this run only).</summary>
    public const string WebhookTenant = "hooks";

    private readonly Dictionary<string, string> _keys = TenantNames.ToDictionary(t => t, _ => "ba-rel-" + RandomToken());

    public DistributedApplication App { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-reliability-").FullName;

    /// <summary>The Sandbox's API key for this run (the workers' provider key): not the Sandbox default, so a leak would show.</summary>
    public string ProviderKey { get; } = "sk-rel-" + RandomToken();

    public OtlpReceiver Telemetry { get; private set; } = null!;

    /// <summary>The webhook receiver of <see cref="WebhookTenant"/>; its port is fixed before the AppHost starts, so it may go down and come back.</summary>
    public WebhookReceiver Hooks { get; } = new();

    /// <summary>The signing secret of <see cref="Hooks"/>, made up for this run.</summary>
    public string HookSecret { get; } = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Where the services keep payload: <c>filesystem</c> here, <c>azure</c> (Azurite) in <see cref="AzureReliabilityFixture"/>.</summary>
    public virtual string BlobProvider => BlobStoreProviders.FileSystem;

    /// <summary>Every resource a scenario must find running: the infrastructure (Azurite too, when it holds the blobs) and the services.</summary>
    public virtual string[] AllResources => BlobProvider == BlobStoreProviders.Azure ? [ResourceNames.Blobs, .. InfrastructureAndServices] : InfrastructureAndServices;

    /// <summary>The services' blob store, as the tests read it: the same folder, or the same Azurite.</summary>
    public IBlobStore Blobs { get; private set; } = null!;

    public ServiceControl Control { get; private set; } = null!;

    public ConnectionMultiplexer Redis { get; private set; } = null!;

    public string CacheConnectionString { get; private set; } = "";

    public SandboxAdmin Sandbox { get; private set; } = null!;

    /// <summary>Every run, kill and restart the scenarios make, for docs/reliability.md.</summary>
    public FaultLedger Ledger { get; } = new();

    public string KeyOf(string tenant) => _keys[tenant];

    public IReadOnlyDictionary<string, string> TenantKeys => _keys;

    public Uri IntakeBaseUrl => new(App.GetEndpoint(ResourceNames.Intake, "http"), "v1");

    internal IntakeSdk Sdk(string tenant) => new(IntakeBaseUrl, KeyOf(tenant));

    public HttpClient CreateIntakeClient() => App.CreateHttpClient(ResourceNames.Intake, "http");

    public async ValueTask InitializeAsync()
    {
        Telemetry = await OtlpReceiver.StartAsync();
        await Hooks.UpAsync();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>([.. Arguments()]);
        // The AppHost's own health probes fail loudly while a scenario has a service down: that is expected.
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None));
        foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
        {
            var resource = builder.CreateResourceBuilder(project)
                .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Telemetry.Endpoint)
                .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "500")
                .WithEnvironment("OTEL_BLRP_SCHEDULE_DELAY", "500");
            if (project.Name is ResourceNames.Submitter or ResourceNames.Poller or ResourceNames.Results)
            {
                // A provider that stops answering is noticed in seconds, not minutes.
                foreach (var (key, value) in WorkerProviderTimeouts) resource.WithEnvironment(key, value);
            }
        }

        App = await builder.BuildAsync();
        Control = new ServiceControl(App, DataDirectory, Ledger);
        Control.StartWatching();
        await App.StartAsync().WaitAsync(TimeSpan.FromMinutes(4));
        await Control.WaitAllHealthyAsync(AllResources, TimeSpan.FromMinutes(4), CancellationToken.None);

        CacheConnectionString = await App.GetConnectionStringAsync(ResourceNames.Cache) ?? throw new InvalidOperationException("no cache connection string");
        Control.CacheConnectionString = CacheConnectionString;
        Redis = await ConnectionMultiplexer.ConnectAsync(CacheConnectionString + ",abortConnect=false,connectTimeout=2000,syncTimeout=5000,asyncTimeout=5000");
        Sandbox = new SandboxAdmin(App.CreateHttpClient(ResourceNames.Sandbox, "http"), ProviderKey);
        Blobs = BlobStoreExtensions.Create(
            new BlobStoreOptions { Provider = BlobProvider, Root = Path.Combine(DataDirectory, ResourceNames.Blobs) },
            BlobProvider == BlobStoreProviders.Azure ? await App.GetConnectionStringAsync(ResourceNames.Blobs) : null);
    }

    /// <summary>The distinct blob prefixes (a line part's name without its ".data", ".index" or ".lines") under <paramref name="prefix"/>.</summary>
    public Task<HashSet<string>> BlobPrefixesAsync(string prefix, CancellationToken ct) => JobInvariant.BlobPrefixesAsync(Blobs, prefix, ct);

    /// <summary>The blob prefixes listed in <c>ba:blobs:delete</c>, with when each is due (unix ms).</summary>
    public Task<Dictionary<string, double>> BlobsListedForDeletionAsync() => JobInvariant.BlobsListedForDeletionAsync(Redis.GetDatabase());

    /// <summary>Puts the system back the way a scenario found it: every resource running and healthy, no fault knob on.</summary>
    public async Task RestoreAsync(CancellationToken ct)
    {
        await Control.EnsureRunningAsync(AllResources, ct);
        await Sandbox.ClearFaultsAsync(ct);
        Hooks.Answer = () => 200;
    }

    /// <summary>
    /// Leases, timeouts and intervals short enough that a crash is recovered from in seconds (configuration keys as the
    /// AppHost takes them); the multi-host fixture gives the same to its services.
    /// </summary>
    public static readonly string[] RecoverySettings =
    [
        // A job whose JobAccepted was lost (broker down) is sent again within seconds.
        "Intake:RepublishAfter=00:00:06",
        "Intake:RepublishInterval=00:00:02",
        // A dead submitter's chunk is taken over after its lease; refusals wait a second, not half a minute.
        // Jobs of a few thousand requests become several chunks (several provider batches, several leases).
        "Submitter:MaxLinesPerChunk=400",
        "Submitter:SubmitLease=00:00:09",
        "Submitter:RefusalDelay=00:00:01",
        "Submitter:MaxRefusalDelay=00:00:04",
        "Submitter:SweepInterval=00:00:00.500",
        "Submitter:SweepLease=00:00:10",
        "Submitter:FirstPollDelay=00:00:00.300",
        // A dead poller's leases lapse in seconds; polls are frequent so jobs end promptly.
        "Poller:Lease=00:00:04",
        "Poller:InitialInterval=00:00:00.300",
        "Poller:ValidatingInterval=00:00:00.300",
        "Poller:MaxInterval=00:00:02",
        "Poller:ErrorInterval=00:00:00.500",
        // Enough attempts that injected transient failures are retried to an answer.
        "Results:MaxAttempts=8",
        "Results:CapacityRetryDelay=00:00:01",
    ];

    /// <summary>The workers' provider timeouts: a provider that stops answering is noticed in seconds, not minutes.</summary>
    public static readonly (string Key, string Value)[] WorkerProviderTimeouts =
        [("Provider__AttemptTimeout", "00:00:08"), ("Provider__TotalTimeout", "00:00:30"), ("Provider__RetryDelay", "00:00:00.200")];

    /// <summary>AppHost arguments a variant of the system adds to the common ones.</summary>
    protected virtual IEnumerable<string> VariantArguments() => [];

    private IEnumerable<string> Arguments()
    {
        foreach (var argument in VariantArguments()) yield return argument;
        yield return "Infra:Mode=process";
        yield return $"Infra:DataDirectory={DataDirectory}";
        yield return $"Blobs:Provider={BlobProvider}";
        yield return $"Sandbox:ApiKey={ProviderKey}";
        var i = 0;
        foreach (var (tenant, key) in _keys)
        {
            yield return $"Intake:ApiKeys:{i}:Tenant={tenant}";
            yield return $"Intake:ApiKeys:{i}:Sha256={Sha256(key)}";
            i++;
        }
        foreach (var setting in RecoverySettings) yield return setting;
        // Webhooks: retried within a second or two, a held delivery given up after 2 s, a claimed event hidden 5 s.
        yield return $"Webhooks:Endpoints:0:Tenant={WebhookTenant}";
        yield return $"Webhooks:Endpoints:0:Url={Hooks.Url("batch-events")}";
        yield return $"Webhooks:Endpoints:0:Secret={HookSecret}";
        yield return "Webhooks:AllowPrivateAddresses=true";
        yield return "Webhooks:Timeout=00:00:02";
        yield return "Webhooks:Lease=00:00:05";
        yield return "Webhooks:InitialRetryDelay=00:00:00.500";
        yield return "Webhooks:MaxRetryDelay=00:00:02";
        yield return "Webhooks:PollInterval=00:00:00.200";
    }

    public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string RandomToken() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    /// <summary>The suffix of this collection's report and console log, so no two collections write the same files.</summary>
    protected virtual string? ReportVariant => BlobProvider == BlobStoreProviders.Azure ? "azure" : null;

    public async ValueTask DisposeAsync()
    {
        var variant = ReportVariant;
        Ledger.WriteReport(variant);
        // Every service's console output of the run, for whoever has to find out why a scenario failed.
        if (Control is not null)
        {
            await File.WriteAllLinesAsync(Path.Combine(AppContext.BaseDirectory, variant is null ? "reliability-console.log" : $"reliability-console-{variant}.log"),
                Control.ConsoleLogs.Select(l => $"{l.Resource}: {l.Line}"));
        }
        if (Redis is not null) await Redis.DisposeAsync();
        if (Control is not null) await Control.DisposeAsync();
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
        if (Telemetry is not null) await Telemetry.DisposeAsync();
        await Hooks.DisposeAsync();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition(nameof(ReliabilityCollection))]
public sealed class ReliabilityCollection : ICollectionFixture<ReliabilityFixture>;

/// <summary>The same system with its payload in Azurite (Azure Blob Storage) instead of a folder.</summary>
public sealed class AzureReliabilityFixture : ReliabilityFixture
{
    public override string BlobProvider => BlobStoreProviders.Azure;
}

[CollectionDefinition(nameof(AzureReliabilityCollection))]
public sealed class AzureReliabilityCollection : ICollectionFixture<AzureReliabilityFixture>;

/// <summary>
/// The same system on highly available infrastructure (<c>Infra:HighAvailability=true</c>): Redis as a primary, a replica
/// and three Sentinels, RabbitMQ as a cluster of three nodes with quorum queues.
/// </summary>
public sealed class HighAvailabilityFixture : ReliabilityFixture
{
    public static readonly string[] RedisNodes = [$"{ResourceNames.Cache}-primary", $"{ResourceNames.Cache}-replica"];

    public static readonly string[] Sentinels = [.. Enumerable.Range(1, 3).Select(i => $"{ResourceNames.Cache}-sentinel-{i}")];

    public static readonly string[] BrokerNodes = [.. new[] { "a", "b", "c" }.Select(l => $"{ResourceNames.Messaging}-{l}")];

    public override string[] AllResources => [.. RedisNodes, .. Sentinels, .. BrokerNodes, .. Services];

    protected override IEnumerable<string> VariantArguments() => ["Infra:HighAvailability=true"];

    protected override string? ReportVariant => "ha";
}

[CollectionDefinition(nameof(HighAvailabilityCollection))]
public sealed class HighAvailabilityCollection : ICollectionFixture<HighAvailabilityFixture>;
