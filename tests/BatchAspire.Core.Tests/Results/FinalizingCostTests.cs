using System.Globalization;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Results;

/// <summary>
/// What finalizing costs Redis as a job's chunks finish one by one. Counted on a redis-server of its own
/// (<c>INFO commandstats</c> counts the commands a script runs too, and no other test's work lands there).
/// </summary>
public sealed class FinalizingCostTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FinalizingAJobOfTwoThousandChunksCostsCommandsInProportionToItsChunks()
    {
        const int chunks = 2_000;
        // Each message: the chunk's completion and the "is every chunk done" check, a handful of commands each.
        const int commandsPerChunk = 25;
        await using var server = await LocalRedisServer.StartAsync(Ct);
        var redis = server.Multiplexer;
        using var blobs = new TempBlobStore();
        var store = new ChunkStore(redis);
        var results = new ResultStore(redis, blobs.Store, new BlobDeletions(redis, blobs.Store, TimeProvider.System));
        var job = JobIds.New();
        await redis.GetDatabase().HashSetAsync(RedisKeys.Job(job), [new(JobFields.Status, JobStatus.InProgress)]);
        var plan = Enumerable.Range(0, chunks).Select(n => new PlannedChunk(n * 10L, 10, 0)).ToList();
        Assert.Equal(PlanResult.Planned, (await store.PlanAsync(job, chunks * 10L, plan)).Result);

        var before = await CommandsAsync(server);
        var readyAfter = new List<int>();
        for (var n = 0; n < chunks; n++)
        {
            // Chunk n's results pass: its usage recorded as it closes, then the finalizer's readiness check.
            await results.CompleteChunkAsync(ChunkIds.Create(job, n), new TokenUsage(n, 0, 2 * n, 0), SuccessorKind.None, [], 1, TimeSpan.Zero);
            if (await store.AllResultsDoneAsync(job)) readyAfter.Add(n);
        }
        var usage = await results.SumUsageAsync(job);
        var spent = await CommandsAsync(server) - before;
        TestContext.Current.TestOutputHelper?.WriteLine($"{chunks} chunks finished one by one: {spent} Redis commands");

        Assert.Equal([chunks - 1], readyAfter);
        Assert.Equal(new TokenUsage(chunks * (chunks - 1L) / 2, 0, chunks * (chunks - 1L), 0), usage);
        Assert.True(spent < commandsPerChunk * chunks, $"finishing {chunks} chunks took {spent} Redis commands, over {commandsPerChunk} per chunk");
    }

    /// <summary>Every command the server ran so far (scripts' own commands included).</summary>
    private static async Task<long> CommandsAsync(LocalRedisServer server)
    {
        var info = (string)(await server.Multiplexer.GetDatabase().ExecuteAsync("INFO", "commandstats"))!;
        long calls = 0;
        foreach (var line in info.Split('\n'))
        {
            var at = line.IndexOf("calls=", StringComparison.Ordinal);
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || at < 0) continue;
            var end = line.IndexOf(',', at);
            calls += long.Parse(line[(at + "calls=".Length)..end], CultureInfo.InvariantCulture);
        }
        return calls;
    }
}
