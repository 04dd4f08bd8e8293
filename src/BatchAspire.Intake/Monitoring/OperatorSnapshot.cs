using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Intake.Monitoring;

/// <summary>What the operator gauges report, read from Redis at one moment. Counts only: no job id leaves it.</summary>
internal sealed record OperatorSnapshot(
    DateTimeOffset ReadAt,
    IReadOnlyDictionary<string, long> OpenJobsByStatus,
    long RequestsPending,
    long RequestsCompleted,
    long RequestsFailed,
    long ProviderBatchesOpen,
    long ChunksDelayed,
    TimeSpan PollLag,
    TimeSpan OldestOpenJobAge,
    IReadOnlyList<TenantUse> Tenants)
{
    public static readonly OperatorSnapshot Empty = new(DateTimeOffset.MinValue, new Dictionary<string, long>(), 0, 0, 0, 0, 0,
        TimeSpan.Zero, TimeSpan.Zero, []);
}

/// <summary>One tenant's usage counters beside its quota (null: no limit).</summary>
internal sealed record TenantUse(string Tenant, long StoredBytes, long Files, long OpenBatches, long PendingRequests, TenantQuota Quota);

/// <summary>
/// Reads an <see cref="OperatorSnapshot"/> in a few pipelined round trips: the sizes and heads of the sorted sets the
/// pipeline keeps anyway (<c>ba:jobs:validating</c>, <c>ba:jobs:open</c>, <c>ba:poll:due</c>, <c>ba:chunks:delayed</c>),
/// the status and request counts of at most <see cref="MaxJobs"/> open jobs (oldest first), and each configured
/// tenant's usage hash. Nothing here scans the key space.
/// </summary>
internal sealed class OperatorSnapshotReader(IConnectionMultiplexer redis)
{
    /// <summary>Bounds the per-job reads; the job counts by status cover the oldest this many open jobs.</summary>
    public const int MaxJobs = 1000;

    public async Task<OperatorSnapshot> ReadAsync(IReadOnlyList<string> tenants, Func<string, TenantQuota> quotaOf)
    {
        var db = redis.GetDatabase();
        var now = await db.NowAsync();
        var validatingTask = db.SortedSetRangeByRankWithScoresAsync(RedisKeys.ValidatingJobs, 0, MaxJobs - 1);
        var openTask = db.SortedSetRangeByRankWithScoresAsync(RedisKeys.OpenJobs, 0, MaxJobs - 1);
        var pollingTask = db.SortedSetLengthAsync(RedisKeys.PollDue);
        var delayedTask = db.SortedSetLengthAsync(RedisKeys.DelayedChunks);
        // The earliest due time at or before now: a leased chunk's score is its lease's end, in the future.
        var overdueTask = db.SortedSetRangeByScoreWithScoresAsync(RedisKeys.PollDue, double.NegativeInfinity,
            now.ToUnixTimeMilliseconds(), take: 1);
        var usageTasks = tenants.Select(t => db.HashGetAsync(RedisKeys.TenantUsage(t),
            [TenantUsage.StoredBytes, TenantUsage.Files, TenantUsage.OpenBatches, TenantUsage.PendingRequests])).ToList();

        var jobIds = (await validatingTask).Concat(await openTask).Select(e => (string)e.Element!).Distinct().Take(MaxJobs).ToList();
        var jobTasks = jobIds.Select(id => db.HashGetAsync(RedisKeys.Job(id),
            [JobFields.Status, JobFields.CreatedAt, JobFields.RequestTotal, JobFields.RequestCompleted, JobFields.RequestFailed])).ToList();

        var byStatus = new Dictionary<string, long>(StringComparer.Ordinal);
        long pending = 0, completed = 0, failed = 0, oldestCreated = long.MaxValue;
        foreach (var fields in await Task.WhenAll(jobTasks))
        {
            if (fields[0].IsNull || JobStatus.IsTerminal((string)fields[0]!)) continue;
            var status = (string)fields[0]!;
            byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
            var total = Long(fields[2]);
            var done = Long(fields[3]);
            var fail = Long(fields[4]);
            completed += done;
            failed += fail;
            pending += Math.Max(0, total - done - fail);
            if (!fields[1].IsNull) oldestCreated = Math.Min(oldestCreated, Long(fields[1]));
        }

        var overdue = await overdueTask;
        var lag = overdue.Length == 0 ? TimeSpan.Zero
            : TimeSpan.FromMilliseconds(Math.Max(0, now.ToUnixTimeMilliseconds() - (long)overdue[0].Score));
        var age = oldestCreated == long.MaxValue ? TimeSpan.Zero
            : TimeSpan.FromSeconds(Math.Max(0, now.ToUnixTimeSeconds() - oldestCreated));
        var usage = await Task.WhenAll(usageTasks);
        var tenantUse = tenants.Select((t, i) => new TenantUse(t, Long(usage[i][0]), Long(usage[i][1]), Long(usage[i][2]),
            Long(usage[i][3]), quotaOf(t))).ToList();

        return new OperatorSnapshot(now, byStatus, pending, completed, failed, await pollingTask, await delayedTask, lag, age, tenantUse);
    }

    private static long Long(RedisValue value) => value.IsNull ? 0 : (long)value;
}
