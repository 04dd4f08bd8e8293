using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Testing.Polling;

/// <summary>
/// Writes jobs and chunks the way intake and submitter leave them for the poller. Compiled into Core.Tests (the poll
/// schedule) and Poller.Tests (the replicas); see BatchAspire.Testing.csproj.
/// </summary>
public static class TestJobs
{
    public sealed record SeededJob(string JobId, IReadOnlyList<string> ChunkIds, IReadOnlyList<string> ProviderBatchIds, string TraceParent);

    /// <param name="provider">Called with each provider batch id, its status and its request count before the chunk is due,
    /// so a fake provider can answer the first poll (null when no provider is polled).</param>
    public static async Task<SeededJob> SeedAsync(IConnectionMultiplexer redis, Action<string, string, long>? provider, int chunks,
        string providerStatus = JobStatus.Validating, long requestsPerChunk = 10, DateTimeOffset? dueAt = null)
    {
        var db = redis.GetDatabase();
        var jobId = "batch_" + Guid.NewGuid().ToString("N");
        var traceparent = $"00-{Guid.NewGuid():N}-{Guid.NewGuid().ToString("N")[..16]}-01";
        await db.HashSetAsync(RedisKeys.Job(jobId),
        [
            new(JobFields.Status, JobStatus.Validating),
            new(JobFields.RequestTotal, chunks * requestsPerChunk),
            new(JobFields.TraceParent, traceparent),
        ]);

        var schedule = new PollSchedule(redis);
        var chunkIds = new List<string>();
        var batchIds = new List<string>();
        var batch = db.CreateBatch();
        var writes = new List<Task>();
        for (var n = 0; n < chunks; n++)
        {
            var chunkId = ChunkIds.Create(jobId, n);
            var providerBatchId = $"batch_p{n}_{jobId[6..]}";
            chunkIds.Add(chunkId);
            batchIds.Add(providerBatchId);
            writes.Add(batch.HashSetAsync(RedisKeys.Chunk(chunkId),
            [
                new(ChunkPollFields.ProviderBatchId, providerBatchId),
                new(ChunkPollFields.Status, "submitted"),
            ]));
            provider?.Invoke(providerBatchId, providerStatus, requestsPerChunk);
        }
        batch.Execute();
        await Task.WhenAll(writes);
        await Task.WhenAll(chunkIds.Select(id => schedule.ScheduleAsync(id, dueAt ?? DateTimeOffset.UtcNow)));
        return new SeededJob(jobId, chunkIds, batchIds, traceparent);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the time is up; every wait in these tests is bounded.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return true;
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
        return await condition();
    }

    public static Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout);
}
