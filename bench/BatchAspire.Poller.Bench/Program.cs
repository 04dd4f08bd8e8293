using System.Diagnostics;
using System.Globalization;
using BatchAspire.Bench;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using BatchAspire.Poller.Bench;
using BatchAspire.Testing;
using MassTransit;
using StackExchange.Redis;

// Poller scale-out (issue 8, benchmark 3): 10,000 open chunks, a provider answering each GET in 20 ms;
// polls per second with 1, 2 and 4 replicas, each ratio against the 1-replica run of this same run,
// and the double polls seen (must be zero). --short: fewer chunks and shorter windows, for CI.
var isShort = args.Contains("--short");
var chunks = isShort ? 2_000 : 10_000;
var window = TimeSpan.FromSeconds(isShort ? 3 : 10);
var warmup = TimeSpan.FromSeconds(isShort ? 1 : 2);
var latency = TimeSpan.FromMilliseconds(20);
// Every chunk is due again soon after its poll (10,000 chunks a second, or 8,000 in the short run), far more
// than the replicas can serve, so the schedule always has a backlog and the figure is the replicas'
// throughput, not the demand.
var interval = TimeSpan.FromSeconds(isShort ? 0.25 : 1);
const int inFlightPerReplica = 16;
int[] replicaCounts = [1, 2, 4];

await using var redis = await LocalRedisServer.StartAsync();
await using var provider = await SlowProvider.StartAsync(latency, interval);

Console.WriteLine($"Poller scale-out: {chunks:N0} open chunks, provider {latency.TotalMilliseconds:F0} ms per GET, " +
                  $"{inFlightPerReplica} GETs in flight per replica, {window.TotalSeconds:F0} s measured after {warmup.TotalSeconds:F0} s warm-up, " +
                  $"{Environment.ProcessorCount} cores");
var results = new List<(int Replicas, double PollsPerSecond, long Doubles)>();
foreach (var replicas in replicaCounts)
{
    await SeedAsync(redis, chunks);
    provider.Reset();
    var doublesBefore = provider.DoublePolls;
    var hosts = new List<(IHost Host, ConnectionMultiplexer Redis)>();
    for (var i = 0; i < replicas; i++) hosts.Add(await StartReplicaAsync(redis.ConnectionString, provider.BaseUrl, interval));

    await Task.Delay(warmup);
    var getsBefore = provider.Gets;
    var clock = Stopwatch.StartNew();
    await Task.Delay(window);
    var gets = provider.Gets - getsBefore;
    var elapsed = clock.Elapsed;

    foreach (var (host, connection) in hosts)
    {
        await host.StopAsync();
        host.Dispose();
        await connection.DisposeAsync();
    }
    results.Add((replicas, gets / elapsed.TotalSeconds, provider.DoublePolls - doublesBefore));
}

var baseline = results[0].PollsPerSecond;
Console.WriteLine();
Console.WriteLine("| replicas | polls/s | ratio vs 1 replica | double polls |");
Console.WriteLine("| ---: | ---: | ---: | ---: |");
foreach (var r in results)
{
    Console.WriteLine($"| {r.Replicas} | {r.PollsPerSecond:N0} | {r.PollsPerSecond / baseline:F2} | {r.Doubles} |");
}
var four = results.Single(r => r.Replicas == 4).PollsPerSecond / baseline;
var doubles = results.Sum(r => r.Doubles);
Console.WriteLine();
Console.WriteLine($"Goal 4 replicas >= 3x one replica: {(four >= 3 ? "met" : "NOT met")} ({four:F2}x). " +
                  $"Goal zero double polls: {(doubles == 0 ? "met" : "NOT met")} ({doubles}).");
foreach (var r in results.Skip(1))
{
    BenchFigure.Print("3. poller scale-out", $"{chunks:N0} open chunks, 20 ms GETs: {r.Replicas} replicas",
        string.Create(CultureInfo.InvariantCulture, $"{r.PollsPerSecond:N0} polls/s"),
        string.Create(CultureInfo.InvariantCulture, $"{baseline:N0} polls/s (1 replica)"), r.PollsPerSecond / baseline,
        r.Replicas == 4 ? ">= 3.00" : "-", r.Replicas == 4 ? r.PollsPerSecond / baseline >= 3 : null);
}
BenchFigure.Print("3. poller scale-out", "double polls, all runs", doubles.ToString(CultureInfo.InvariantCulture), "-", null, "0", doubles == 0);
// A double poll is a correctness failure; a missed ratio on a noisy machine is reported, not fatal.
return doubles == 0 ? 0 : 1;

static async Task SeedAsync(LocalRedisServer redis, int chunks)
{
    var server = redis.Multiplexer.GetServer(redis.Multiplexer.GetEndPoints()[0]);
    await server.ExecuteAsync("FLUSHALL");
    var db = redis.Multiplexer.GetDatabase();
    var schedule = new PollSchedule(redis.Multiplexer);
    const int chunksPerJob = 100;
    var writes = new List<Task>();
    for (var j = 0; j < chunks / chunksPerJob; j++)
    {
        var jobId = $"batch_bench{j:D4}";
        writes.Add(db.HashSetAsync(RedisKeys.Job(jobId),
        [
            new(JobFields.Status, JobStatus.InProgress),
            new(JobFields.TraceParent, $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01"),
        ]));
        for (var n = 0; n < chunksPerJob; n++)
        {
            var chunkId = ChunkIds.Create(jobId, n);
            writes.Add(db.HashSetAsync(RedisKeys.Chunk(chunkId),
            [
                new(ChunkPollFields.ProviderBatchId, $"batch_p{j:D4}_{n:D3}"),
                new(ChunkPollFields.Status, JobStatus.InProgress),
            ]));
            writes.Add(schedule.ScheduleAsync(chunkId, DateTimeOffset.UtcNow));
        }
    }
    await Task.WhenAll(writes);
}

static async Task<(IHost, ConnectionMultiplexer)> StartReplicaAsync(string redisConnectionString, Uri providerBaseUrl, TimeSpan interval)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Provider:BaseUrl"] = providerBaseUrl.ToString(),
        ["Provider:ApiKey"] = "sk-bench",
        ["Poller:MaxConcurrentPolls"] = inFlightPerReplica.ToString(),
        ["Poller:ValidatingInterval"] = interval.ToString(),
        ["Poller:InitialInterval"] = interval.ToString(),
        ["Poller:BackoffFactor"] = "1",
        ["Poller:MaxInterval"] = interval.ToString(),
    });
    var connection = await ConnectionMultiplexer.ConnectAsync(redisConnectionString);
    builder.Services.AddSingleton<IConnectionMultiplexer>(connection);
    builder.Services.AddMassTransit(bus => bus.UsingInMemory());   // nothing ends in this benchmark, so nothing is published
    builder.AddProviderClient();
    builder.AddPoller();
    var host = builder.Build();
    await host.StartAsync();
    return (host, connection);
}
