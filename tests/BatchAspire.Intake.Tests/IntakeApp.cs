using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using BatchAspire.Contracts;
using MassTransit;
using MassTransit.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;

namespace BatchAspire.Intake.Tests;

/// <summary>
/// The intake in-process with a real redis-server and MassTransit's test harness in place of RabbitMQ.
/// It knows <see cref="KeyCount"/> API keys, so tests isolate themselves by taking a fresh tenant.
/// </summary>
public class IntakeApp(string redisConnectionString, IReadOnlyDictionary<string, string?>? settings = null, string environment = "Development",
    string? blobRoot = null)
    : WebApplicationFactory<Program>
{
    /// <summary>The intake's blob store (a temporary folder of its own, unless given one).</summary>
    public TempBlobStore Blobs { get; } = new(blobRoot);

    public const int KeyCount = 200;
    private int _nextTenant;

    public static string KeyOf(int tenant) => $"test-key-{tenant}";

    public static string TenantOf(int tenant) => $"tenant-{tenant}";

    /// <summary>A tenant no other test uses, and its API key.</summary>
    public (string Tenant, string Key) NewTenant()
    {
        var n = Interlocked.Increment(ref _nextTenant);
        if (n >= KeyCount) throw new InvalidOperationException("Raise IntakeApp.KeyCount.");
        return (TenantOf(n), KeyOf(n));
    }

    public ITestHarness Harness => Services.GetTestHarness();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Cache}", redisConnectionString);
        builder.UseSetting($"ConnectionStrings:{ResourceNames.Messaging}", "amqp://guest:guest@127.0.0.1:1/");
        builder.UseSetting("Blobs:Root", Blobs.Root);
        builder.UseSetting("Blobs:Durable", "false");
        for (var i = 0; i < KeyCount; i++)
        {
            builder.UseSetting($"Intake:ApiKeys:{i}:Tenant", TenantOf(i));
            builder.UseSetting($"Intake:ApiKeys:{i}:Sha256", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(KeyOf(i)))));
        }
        builder.UseSetting("Intake:MaxRequestsPerBatch", "1000");
        builder.UseSetting("Intake:MaxLineBytes", "65536");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.AddMassTransitTestHarness(bus => bus.AddConsumer<JobAcceptedProbe>()));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Blobs.Dispose();
    }

    /// <summary>
    /// Every key of <paramref name="redis"/> (with the tenants' usage counters), every blob, and how many temporary files
    /// the blob store holds: what a refused or failed request must leave as it was (tests that own their database).
    /// </summary>
    public async Task<string> StoredStateAsync(IsolatedRedis redis)
    {
        var db = redis.Db;
        var keys = (await redis.KeysAsync()).Order(StringComparer.Ordinal).ToList();
        var usage = new List<string>();
        foreach (var key in keys.Where(k => k.EndsWith(":usage", StringComparison.Ordinal)))
            usage.Add(key + "=" + string.Join(',', (await db.HashGetAllAsync(key)).OrderBy(e => (string)e.Name!).Select(e => $"{e.Name}:{e.Value}")));
        var temporary = Directory.EnumerateFiles(Path.Combine(Blobs.Root, "tmp")).Count();
        return string.Join('\n', keys.Concat(usage).Concat(await Blobs.NamesAsync()).Append($"tmp:{temporary}"));
    }

    public HttpClient CreateClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>The official SDK over the in-memory server, without its own retries.</summary>
    public OpenAIClient CreateOpenAIClient(string apiKey, string basePath = "v1") => new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseAddress, basePath),
        Transport = new HttpClientPipelineTransport(CreateClient()),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    });
}

/// <summary>The app most tests share (assembly fixture), with its own redis-server.</summary>
public sealed class SharedIntake : IAsyncLifetime
{
    /// <summary>The model the shared intake routes to a provider of kind anthropic.</summary>
    public const string AnthropicRoutedModel = "claude-routed";

    private LocalRedisServer? _redis;
    private IntakeApp? _app;

    public IntakeApp App => _app ?? throw new InvalidOperationException("Not started.");

    public LocalRedisServer Redis => _redis ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _redis = await LocalRedisServer.StartAsync(TestContext.Current.CancellationToken);
        _app = new IntakeApp(_redis.ConnectionString, new Dictionary<string, string?>
        {
            // One model routed to Anthropic first (AnthropicValidationTests); every other model has no route.
            ["Providers:claude:Kind"] = "anthropic",
            [$"Routing:Routes:{AnthropicRoutedModel}:0:Provider"] = "claude",
        });
        _ = _app.Server;   // start once, up front
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
    }
}

/// <summary>Records, for each JobAccepted it consumes, whether the job hash was already in Redis.</summary>
public sealed class JobAcceptedProbe(StackExchange.Redis.IConnectionMultiplexer redis) : IConsumer<JobAccepted>
{
    public static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> JobExisted = new();

    public async Task Consume(ConsumeContext<JobAccepted> context)
    {
        var exists = await redis.GetDatabase().KeyExistsAsync(BatchAspire.Core.Redis.RedisKeys.Job(context.Message.JobId));
        JobExisted[context.Message.JobId] = exists;
    }
}
