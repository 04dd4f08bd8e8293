using BatchAspire.Storage;
using System.Text;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BatchAspire.Testing.Pipeline;

/// <summary>
/// The submitter, (optionally) the poller and results as one host in this process, wired by the same extension
/// methods as their Program.cs, over a Redis database of their own (the poll schedule, open jobs and delayed chunks
/// are global keys, so hosts never share one) and the MassTransit in-memory test harness in place of RabbitMQ.
/// Compiled into Submitter.Tests and Results.Tests (see BatchAspire.Testing.csproj).
/// </summary>
public sealed class PipelineHost : IAsyncDisposable
{
    private static readonly SemaphoreSlim StartLock = new(1, 1);

    private readonly IHost _host;

    private PipelineHost(IHost host, IsolatedRedis redis, TempBlobStore blobs, SandboxServer sandbox)
    {
        _host = host;
        Redis = redis;
        Blobs = blobs;
        Sandbox = sandbox;
    }

    public IsolatedRedis Redis { get; }

    public TempBlobStore Blobs { get; }

    public SandboxServer Sandbox { get; }

    public IServiceProvider Services => _host.Services;

    public ITestHarness Harness => _host.Services.GetTestHarness();

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public IDatabase Db => Redis.Db;

    public IFileStore Files => Services.GetRequiredService<IFileStore>();

    public IJobStore Jobs => Services.GetRequiredService<IJobStore>();

    public ChunkStore Chunks => Services.GetRequiredService<ChunkStore>();

    /// <summary>Fast timings for tests; <paramref name="overrides"/> win.</summary>
    public static Dictionary<string, string?> Settings(SandboxServer sandbox, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Provider:BaseUrl"] = sandbox.BaseUrl.ToString(),
            ["Provider:ApiKey"] = SandboxServer.ApiKey,
            ["Provider:AttemptTimeout"] = "00:00:20",
            ["Provider:TotalTimeout"] = "00:00:40",
            ["Provider:RetryDelay"] = "00:00:00.050",
            ["Submitter:SubmitLease"] = "00:00:10",
            ["Submitter:RefusalDelay"] = "00:00:00.200",
            ["Submitter:MaxRefusalDelay"] = "00:00:01",
            ["Submitter:FirstPollDelay"] = "00:00:00.100",
            ["Submitter:SweepInterval"] = "00:00:00.050",
            ["Submitter:SweepLease"] = "00:00:05",
            ["Results:SweepInterval"] = "00:00:00.100",
            ["Results:CapacityRetryDelay"] = "00:00:00.300",
            ["Results:ProviderFileRetryDelay"] = "00:00:00.300",
            ["Results:ExpiryGrace"] = "00:00:05",
            ["Poller:MaxConcurrentPolls"] = "16",
            ["Poller:Lease"] = "00:00:05",
            ["Poller:IdleDelay"] = "00:00:00.050",
            ["Poller:ValidatingInterval"] = "00:00:00.100",
            ["Poller:InitialInterval"] = "00:00:00.100",
            ["Poller:BackoffFactor"] = "1.5",
            ["Poller:MaxInterval"] = "00:00:00.500",
            ["Poller:ErrorInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        return settings;
    }

    /// <param name="withPoller">False leaves ChunkFinished to the test (submitter/results consumers only).</param>
    /// <param name="providerHandler">An extra innermost handler on the provider HttpClient (faults between the SDK and the provider).</param>
    /// <param name="blobRoot">Where the blob store keeps its files (default: a fresh temporary folder).</param>
    public static async Task<PipelineHost> StartAsync(RedisFixture redisFixture, SandboxServer sandbox, IReadOnlyDictionary<string, string?>? overrides = null,
        bool withPoller = true, Func<DelegatingHandler>? providerHandler = null, string? blobRoot = null)
    {
        var redis = await redisFixture.IsolatedAsync(TestContext.Current.CancellationToken);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ApplicationName = "workers-tests" });
        builder.Configuration.AddInMemoryCollection(Settings(sandbox, overrides));
        builder.Services.AddSingleton<IConnectionMultiplexer>(redis.Multiplexer);
        var blobs = new TempBlobStore(blobRoot);
        builder.Services.AddSingleton<IBlobStore>(blobs.Store);
        builder.Services.AddBatchStores();
        builder.AddProviderClient();
        if (providerHandler is not null)
            builder.Services.AddHttpClient(ProviderClientExtensions.HttpClientName).AddHttpMessageHandler(providerHandler);
        builder.AddSubmitter();
        builder.AddResults();
        if (withPoller) builder.AddPoller();
        builder.Services.AddMassTransitTestHarness(bus =>
        {
            bus.AddSubmitterConsumers();
            bus.AddResultsConsumers();
            bus.SetTestTimeouts(testTimeout: TimeSpan.FromMinutes(2), testInactivityTimeout: TimeSpan.FromSeconds(5));
            bus.UsingInMemory((context, memory) =>
            {
                BusPolicies.Apply(memory, context);
                memory.ConfigureEndpoints(context);
            });
        });
        var host = builder.Build();
        // One host starts at a time: options validation runs DataAnnotations' cached attribute instances, and
        // RangeAttribute sets up its TimeSpan conversion lazily without a lock, so two hosts validating at once in one
        // process can make it throw (InvalidCastException). A service process validates once, on one thread.
        await StartLock.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
        }
        finally
        {
            StartLock.Release();
        }
        return new PipelineHost(host, redis, blobs, sandbox);
    }

    /// <summary>Stores an input file and a <c>validating</c> job the way the intake does (for a new tenant unless <paramref name="tenant"/> names one).</summary>
    public async Task<TestJob> CreateJobAsync(byte[] input, CancellationToken ct, string? tenant = null,
        string endpoint = PipelineJsonl.Endpoint, string model = PipelineJsonl.Model)
    {
        tenant ??= "t" + Guid.NewGuid().ToString("N")[..12];
        await using var upload = Files.BeginUpload(tenant, new FileUploadLimits(1L << 30, 1 << 20));
        await upload.ReadFromAsync(new MemoryStream(input), ct);
        var file = await upload.CommitAsync("input.jsonl", FilePurposes.Batch, null, ct);
        var jobId = JobIds.New();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await Jobs.CreateAsync(new NewJob(jobId, tenant, endpoint, file.Id, "24h", now, now + 86_400, file.Lines)
        {
            Model = model,
            TraceParent = "00-" + Guid.NewGuid().ToString("N") + "-" + Guid.NewGuid().ToString("N")[..16] + "-01",
        }, ct: ct);
        return new TestJob(jobId, tenant, file.Id, file.Lines);
    }

    /// <summary>Waits (bounded) until the job is terminal and returns it.</summary>
    public async Task<JobRecord> WaitForEndAsync(string jobId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var job = await Jobs.GetAsync(jobId, TestContext.Current.CancellationToken);
            if (job is not null && JobStatus.IsTerminal(job.Status)) return job;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Job {jobId} did not end within {timeout} (status {job?.Status}).");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>True once any chunk of the job has its results stored.</summary>
    public async Task<bool> AnyResultsStoredAsync(string jobId)
    {
        foreach (var chunkId in await Chunks.ListAsync(jobId))
            if ((await Chunks.GetAsync(chunkId))?.ResultsDone == true) return true;
        return false;
    }

    /// <summary>Every chunk of the job, in the job's chunk list order.</summary>
    public async Task<List<ChunkRecord>> ChunkRecordsAsync(string jobId)
    {
        var list = new List<ChunkRecord>();
        foreach (var id in await Chunks.ListAsync(jobId)) list.Add((await Chunks.GetAsync(id))!);
        return list;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The lines of a stored file (output or error), in file order.</summary>
    public async Task<List<string>> ReadFileAsync(string? fileId)
    {
        if (fileId is null) return [];
        using var content = new MemoryStream();
        await foreach (var segment in Files.ReadContentAsync(fileId, TestContext.Current.CancellationToken)) content.Write(segment.Span);
        var text = Encoding.UTF8.GetString(content.ToArray());
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "a written file ends with a newline");
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _host.StopAsync(timeout.Token);
        }
        _host.Dispose();
        await Redis.DisposeAsync();
        Blobs.Dispose();
    }
}

public sealed record TestJob(string JobId, string Tenant, string InputFileId, long Lines);
