using System.Globalization;
using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Core.Jobs;

/// <summary>The Redis implementation of <see cref="IJobStore"/>.</summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, TimeProvider time) : IJobStore
{
    // A job that starts validating is open work: it counts against the tenant's quota (checked here, so two creates
    // cannot pass it together) until ResultStore's commit ends it. A job that failed validation is never counted.
    private static readonly LuaScript CreateScript = LuaScript.Prepare($$"""
        {{TenantUsage.LuaOver}}
        if ARGV[2] ~= '' then
          local used = over(KEYS[5], '{{TenantUsage.OpenBatches}}', 1, ARGV[4])
          if used then return {'over', '{{QuotaLimit.OpenBatches}}', used} end
          used = over(KEYS[5], '{{TenantUsage.PendingRequests}}', ARGV[3], ARGV[5])
          if used then return {'over', '{{QuotaLimit.PendingRequests}}', used} end
          redis.call('HINCRBY', KEYS[5], '{{TenantUsage.OpenBatches}}', 1)
          redis.call('HINCRBY', KEYS[5], '{{TenantUsage.PendingRequests}}', ARGV[3])
        end
        local seq = redis.call('INCR', KEYS[4])
        redis.call('HSET', KEYS[1], 'seq', seq, unpack(ARGV, 6))
        redis.call('ZADD', KEYS[2], seq, ARGV[1])
        if ARGV[2] ~= '' then redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1]) end
        return {'ok', seq}
        """);

    private static readonly LuaScript CancelScript = LuaScript.Prepare("""
        local v = redis.call('HMGET', KEYS[1], 'tenant', 'status')
        if v[1] ~= ARGV[1] then return {'', 0, 0} end
        local s = v[2]
        if s == 'validating' or s == 'in_progress' or s == 'finalizing' then
          redis.call('HSET', KEYS[1], 'status', 'cancelling')
          redis.call('HSETNX', KEYS[1], 'cancelling_at', ARGV[2])
          redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
          return {s, 1, 1}
        end
        return {s, 1, 0}
        """);

    // Claims a job of a waiting set (validating, cancelling) while the job still has that status; drops it otherwise.
    private static readonly LuaScript ClaimScript = LuaScript.Prepare("""
        local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
        if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
        if redis.call('HGET', KEYS[2], 'status') == ARGV[4] then
          redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
          return 1
        end
        redis.call('ZREM', KEYS[1], ARGV[1])
        return 0
        """);

    private IDatabase Db => redis.GetDatabase();

    public async Task<JobRecord> CreateAsync(string jobId, string tenant, IReadOnlyList<KeyValuePair<string, string>> fields,
        TenantQuota? quota = null, CancellationToken ct = default)
    {
        var values = new Dictionary<string, string>(fields) { [JobFields.Tenant] = tenant };
        var validating = values.GetValueOrDefault(JobFields.Status) == JobStatus.Validating;
        var requests = long.Parse(values.GetValueOrDefault(JobFields.RequestTotal) ?? "0", CultureInfo.InvariantCulture);
        quota ??= TenantQuota.Unlimited;
        var args = new List<RedisValue>
        {
            jobId,
            validating ? time.GetUtcNow().ToUnixTimeMilliseconds() : RedisValue.EmptyString,
            requests, TenantUsage.Arg(quota.MaxOpenBatches), TenantUsage.Arg(quota.MaxPendingRequests),
        };
        foreach (var (name, value) in values) { args.Add(name); args.Add(value); }
        RedisKey[] keys = [RedisKeys.Job(jobId), RedisKeys.TenantBatches(tenant), RedisKeys.ValidatingJobs, RedisKeys.Sequence, RedisKeys.TenantUsage(tenant)];
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(CreateScript.ExecutableScript, keys, [.. args]))!;
        if ((string)reply[0]! == "over")
        {
            var limit = Enum.Parse<QuotaLimit>((string)reply[1]!);
            throw new QuotaExceededException(limit, limit == QuotaLimit.OpenBatches ? quota.MaxOpenBatches!.Value : quota.MaxPendingRequests!.Value,
                (long)reply[2], limit == QuotaLimit.OpenBatches ? 1 : requests);
        }
        var seq = (long)reply[1];
        values[JobFields.Sequence] = seq.ToString(CultureInfo.InvariantCulture);
        return new JobRecord(jobId, values);
    }

    public async Task<JobRecord?> FindAsync(string tenant, string jobId, CancellationToken ct = default)
    {
        var job = await GetAsync(jobId, ct);
        return job is not null && job.Tenant == tenant ? job : null;
    }

    public async Task<JobRecord?> GetAsync(string jobId, CancellationToken ct = default)
    {
        if (!IsJobId(jobId)) return null;
        var entries = await Db.HashGetAllAsync(RedisKeys.Job(jobId));
        return entries.Length == 0 ? null : ToRecord(jobId, entries);
    }

    public async Task<JobPage?> ListAsync(string tenant, int limit, string? after, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var db = Db;
        var key = RedisKeys.TenantBatches(tenant);
        double? cursor = null;
        if (after is not null)
        {
            cursor = await db.SortedSetScoreAsync(key, after);
            if (cursor is null) return null;
        }
        var page = new List<JobRecord>(limit);
        var take = limit + 1;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var entries = await db.SortedSetRangeByScoreWithScoresAsync(key, double.NegativeInfinity, cursor ?? double.PositiveInfinity,
                cursor is null ? Exclude.None : Exclude.Stop, Order.Descending, 0, take);
            if (entries.Length == 0) return new JobPage(page, false);
            var lookups = entries.Select(e => db.HashGetAllAsync(RedisKeys.Job((string)e.Element!))).ToArray();
            for (var i = 0; i < entries.Length; i++)
            {
                var hash = await lookups[i];
                if (hash.Length == 0) continue;
                var job = ToRecord((string)entries[i].Element!, hash);
                if (job.Tenant != tenant) continue;
                if (page.Count == limit) return new JobPage(page, true);
                page.Add(job);
            }
            if (entries.Length < take) return new JobPage(page, false);
            cursor = entries[^1].Score;
        }
    }

    public async Task<CancelOutcome> RequestCancelAsync(string tenant, string jobId, long now, CancellationToken ct = default)
    {
        if (!IsJobId(jobId)) return new CancelOutcome(false, null, false);
        var result = (RedisResult[])(await Db.ScriptEvaluateAsync(CancelScript.ExecutableScript, [RedisKeys.Job(jobId), RedisKeys.CancellingJobs], [tenant, now, jobId, now * 1000]))!;
        return (long)result[1] == 0
            ? new CancelOutcome(false, null, false)
            : new CancelOutcome(true, (string?)result[0], (long)result[2] == 1);
    }

    public Task<IReadOnlyList<string>> ClaimStaleValidatingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default) =>
        ClaimStaleAsync(RedisKeys.ValidatingJobs, JobStatus.Validating, olderThan, max);

    public Task<IReadOnlyList<string>> ClaimStaleCancellingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default) =>
        ClaimStaleAsync(RedisKeys.CancellingJobs, JobStatus.Cancelling, olderThan, max);

    private async Task<IReadOnlyList<string>> ClaimStaleAsync(RedisKey set, string status, DateTimeOffset olderThan, int max)
    {
        var db = Db;
        var threshold = olderThan.ToUnixTimeMilliseconds();
        var candidates = await db.SortedSetRangeByScoreAsync(set, double.NegativeInfinity, threshold, take: max);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var claimed = new List<string>();
        foreach (var candidate in candidates)
        {
            var jobId = (string)candidate!;
            var won = await db.ScriptEvaluateAsync(ClaimScript.ExecutableScript, [set, RedisKeys.Job(jobId)], [jobId, threshold, now, status]);
            if ((long)won == 1) claimed.Add(jobId);
        }
        return claimed;
    }

    /// <summary>True for ids of the form the intake hands out, so a crafted id never names another key.</summary>
    public static bool IsJobId(string? jobId) =>
        jobId is { Length: > 6 and <= 80 } && jobId.StartsWith("batch_", StringComparison.Ordinal)
        && jobId.AsSpan(6).IndexOfAnyExcept(OpaqueIds.Characters) < 0;

    private static JobRecord ToRecord(string jobId, HashEntry[] entries) =>
        new(jobId, entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!));
}
