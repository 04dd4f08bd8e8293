using System.Globalization;
using System.Text.Json;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Load;

/// <summary>
/// Where the BatchAspire run's time went: the client's own marks, the per-stage timestamps that the services
/// leave in the job and chunk hashes (ms), and the provider's batch timestamps (s, as the Batch API gives them),
/// all as seconds from the start of the upload.
/// </summary>
internal static class Timeline
{
    public static async Task PrintAsync(string cacheConnection, Uri sandbox, ClientMarks marks, CancellationToken ct)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cacheConnection);
        var db = redis.GetDatabase();
        using var provider = new BatchApiClient(sandbox, "sandbox");
        var job = await HashAsync(db, RedisKeys.Job(marks.BatchId));
        var chunkIds = (await db.ListRangeAsync(RedisKeys.JobChunks(marks.BatchId))).Select(v => (string)v!).ToList();

        string At(double? unixMs) => unixMs is { } ms ? ((ms - marks.StartMs) / 1000.0).ToString("F1", CultureInfo.InvariantCulture) : "-";
        double? Ms(Dictionary<string, string> hash, string field) =>
            hash.TryGetValue(field, out var text) && double.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : null;
        double? Seconds(Dictionary<string, string> hash, string field) => Ms(hash, field) * 1000;

        Console.WriteLine();
        Console.WriteLine("Where the BatchAspire run's time went (s from the start of the upload; provider times have 1 s resolution):");
        Console.WriteLine($"  upload to the intake returned      {At(marks.UploadedMs)}");
        Console.WriteLine($"  batch create returned              {At(marks.CreatedMs)}");
        var stats = await provider.GetJsonAsync("../sandbox/stats", ct);
        var gets = stats.TryGetProperty("batch_gets", out var map) ? map.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64()) : [];
        Console.WriteLine($"  | {"chunk",5} | {"lines",6} | {"create",6} | {"created",7} | {"running",7} | {"done",5} | {"polled",6} | {"stored",6} | {"GETs",4} |");
        var rows = new List<(double? Submitted, double? ProviderDone, double? Polled, double? Stored)>();
        foreach (var chunkId in chunkIds)
        {
            var chunk = await HashAsync(db, RedisKeys.Chunk(chunkId));
            Dictionary<string, JsonElement>? batch = null;
            if (chunk.TryGetValue(ChunkPollFields.ProviderBatchId, out var providerBatchId))
            {
                var element = await provider.RetrieveBatchAsync(providerBatchId, ct);
                batch = element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
            }
            double? ProviderSeconds(string field) =>
                batch is not null && batch.TryGetValue(field, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() * 1000.0 : null;
            var row = (Ms(chunk, ChunkFields.SubmittedAtMs), ProviderSeconds("completed_at"), Ms(chunk, ChunkPollFields.StatusChangedAtMs), Ms(chunk, ChunkFields.ResultsDone));
            rows.Add(row);
            // GETs of the provider batch by the pollers (counted by the Sandbox before the timeline asked for any).
            var polls = providerBatchId is not null && gets.TryGetValue(providerBatchId, out var n) ? n.ToString(CultureInfo.InvariantCulture) : "-";
            Console.WriteLine($"  | {ChunkIds.NumberOf(chunkId),5} | {chunk.GetValueOrDefault(ChunkFields.Count, "?"),6} | {At(Ms(chunk, ChunkFields.CreateStartedAtMs)),6} | {At(row.Item1),7} | {At(ProviderSeconds("in_progress_at")),7} | {At(row.Item2),5} | {At(row.Item3),6} | {At(row.Item4),6} | {polls,4} |");
        }
        Console.WriteLine($"  job finalizing (results assembling)  {At(Seconds(job, JobFields.FinalizingAt))}");
        Console.WriteLine($"  job completed                      {At(Seconds(job, JobFields.CompletedAt))}");
        Console.WriteLine($"  client saw completed               {At(marks.SeenTerminalMs)}");
        Console.WriteLine($"  client downloaded both files       {At(marks.DownloadedMs)}");
        var lastStored = rows.Max(r => r.Stored);
        var polledLag = rows.Where(r => r.ProviderDone is not null && r.Polled is not null).Select(r => (r.Polled!.Value - r.ProviderDone!.Value) / 1000).DefaultIfEmpty().Max();
        var storeTime = rows.Where(r => r.Polled is not null && r.Stored is not null).Select(r => (r.Stored!.Value - r.Polled!.Value) / 1000).DefaultIfEmpty().Average();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  stages: upload {(marks.UploadedMs - marks.StartMs) / 1000.0:F1} s; provider done → poller saw it ≤ {polledLag:F1} s (1 s resolution); poller → results stored {storeTime:F1} s per chunk on average; last chunk stored → client saw completed {(marks.SeenTerminalMs - (lastStored ?? marks.SeenTerminalMs)) / 1000.0:F1} s; download {(marks.DownloadedMs - marks.SeenTerminalMs) / 1000.0:F1} s"));
    }

    /// <summary>Clears Redis' command statistics, so <see cref="PrintRedisAsync"/> shows only what follows.</summary>
    public static async Task ResetRedisStatsAsync(string cacheConnection)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cacheConnection + ",allowAdmin=true");
        await redis.GetServers()[0].ConfigResetStatisticsAsync();
    }

    /// <summary>Redis' <c>used_memory</c> (INFO memory), in bytes.</summary>
    public static async Task<long> RedisUsedMemoryAsync(string cacheConnection)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cacheConnection + ",allowAdmin=true");
        var info = await redis.GetServers()[0].InfoAsync("memory");
        return long.Parse(info.SelectMany(g => g).First(p => p.Key == "used_memory").Value, CultureInfo.InvariantCulture);
    }

    /// <summary>Redis' side: the commands that took its time (calls, total µs) and its persistence work.</summary>
    public static async Task PrintRedisAsync(string cacheConnection)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cacheConnection + ",allowAdmin=true");
        var server = redis.GetServers()[0];
        var info = (await server.InfoAsync("everything")).SelectMany(g => g).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value);
        var commands = info.Where(p => p.Key.StartsWith("cmdstat_", StringComparison.Ordinal))
            .Select(p => (Name: p.Key[8..], Fields: p.Value.Split(',').Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1])))
            .Select(c => (c.Name, Calls: long.Parse(c.Fields["calls"], CultureInfo.InvariantCulture), Usec: long.Parse(c.Fields["usec"], CultureInfo.InvariantCulture)))
            .OrderByDescending(c => c.Usec).Take(8).ToList();
        Console.WriteLine();
        Console.WriteLine("Redis during the BatchAspire run: the commands that took its time, and its persistence work");
        foreach (var (name, calls, usec) in commands)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-14} {calls,10:N0} calls {usec / 1e6,8:F2} s"));
        }
        Console.WriteLine($"  used_memory {info.GetValueOrDefault("used_memory_human")} (peak {info.GetValueOrDefault("used_memory_peak_human")}), aof_rewrites {info.GetValueOrDefault("aof_rewrites")}, "
            + $"last rewrite {info.GetValueOrDefault("aof_last_rewrite_time_sec")} s, aof size {info.GetValueOrDefault("aof_current_size")} B, "
            + $"used_cpu_user_children {info.GetValueOrDefault("used_cpu_user_children")} s, used_cpu_sys_children {info.GetValueOrDefault("used_cpu_sys_children")} s");
    }

    private static async Task<Dictionary<string, string>> HashAsync(IDatabase db, RedisKey key) =>
        (await db.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
}
