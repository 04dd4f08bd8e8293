using System.Globalization;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Core.Jobs;

/// <summary>The Redis implementation of <see cref="IJobStore"/>; its scripts are <c>Redis/Lua/jobs/</c>.</summary>
public sealed class RedisJobStore(IConnectionMultiplexer redis, TimeProvider time) : IJobStore
{
    private static readonly RedisScript CreateScript = RedisScript.Load("jobs/create");
    private static readonly RedisScript RequestCancelScript = RedisScript.Load("jobs/request_cancel");
    private static readonly RedisScript StillWaitingScript = RedisScript.Load("jobs/still_waiting");

    private readonly DueSet _validating = new(redis, RedisKeys.ValidatingJobs);
    private readonly DueSet _cancelling = new(redis, RedisKeys.CancellingJobs);

    private IDatabase Db => redis.GetDatabase();

    public async Task<JobRecord> CreateAsync(NewJob job, TenantQuota? quota = null, CancellationToken ct = default)
    {
        quota ??= TenantQuota.Unlimited;
        var fields = Describe(job);
        fields.Add(new(JobFields.RequestTotal, Text(job.Requests)));
        var validatingSince = time.GetUtcNow().ToUnixTimeMilliseconds();
        var reply = await StoreAsync(job, JobStatus.Validating, fields, validatingSince,
            job.Requests, TenantUsage.Arg(quota.MaxOpenBatches), TenantUsage.Arg(quota.MaxPendingRequests));
        if ((string)reply[0]! == "over")
        {
            var limit = Enum.Parse<QuotaLimit>((string)reply[1]!);
            throw new QuotaExceededException(limit, limit == QuotaLimit.OpenBatches ? quota.MaxOpenBatches!.Value : quota.MaxPendingRequests!.Value,
                (long)reply[2], limit == QuotaLimit.OpenBatches ? 1 : job.Requests);
        }
        return Stored(job, JobStatus.Validating, fields, (long)reply[1]);
    }

    public async Task<JobRecord> CreateFailedAsync(NewJob job, IReadOnlyList<LineError> errors, CancellationToken ct = default)
    {
        // A job that never ran answers its checks' errors and counts no requests: it holds no open work.
        var fields = Describe(job);
        fields.Add(new(JobFields.FailedAt, Text(job.CreatedAt)));
        fields.Add(new(JobFields.RequestTotal, "0"));
        fields.Add(new(JobFields.Errors, FileAnalysis.WriteErrors(errors)));
        var reply = await StoreAsync(job, JobStatus.Failed, fields, RedisValue.EmptyString, 0, -1, -1);
        return Stored(job, JobStatus.Failed, fields, (long)reply[1]);
    }

    private async Task<RedisResult[]> StoreAsync(NewJob job, string status, List<KeyValuePair<string, string>> fields,
        RedisValue validatingSince, long requests, RedisValue maxOpenBatches, RedisValue maxPendingRequests)
    {
        var args = new List<RedisValue>(6 + fields.Count * 2) { job.JobId, validatingSince, requests, maxOpenBatches, maxPendingRequests, status };
        foreach (var (name, value) in fields) { args.Add(name); args.Add(value); }
        RedisKey[] keys = [RedisKeys.Job(job.JobId), RedisKeys.TenantBatches(job.Tenant), RedisKeys.ValidatingJobs, RedisKeys.Sequence, RedisKeys.TenantUsage(job.Tenant),
            RedisKeys.WebhookEvent(job.JobId), RedisKeys.WebhooksDue];
        return (RedisResult[])(await CreateScript.EvaluateAsync(Db, keys, [.. args]))!;
    }

    // The fields every new job has, whatever its first status.
    private static List<KeyValuePair<string, string>> Describe(NewJob job)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new(JobFields.Tenant, job.Tenant),
            new(JobFields.Endpoint, job.Endpoint),
            new(JobFields.InputFileId, job.InputFileId),
            new(JobFields.CompletionWindow, job.CompletionWindow),
            new(JobFields.CreatedAt, Text(job.CreatedAt)),
            new(JobFields.ExpiresAt, Text(job.ExpiresAt)),
            new(JobFields.RequestCompleted, "0"),
            new(JobFields.RequestFailed, "0"),
        };
        if (job.MetadataJson is { } metadata) fields.Add(new(JobFields.Metadata, metadata));
        if (job.OutputExpiresAfterSeconds is { } expiry) fields.Add(new(JobFields.OutputExpiresAfterSeconds, Text(expiry)));
        if (job.Model is { } model) fields.Add(new(JobFields.Model, model));
        if (job.TraceParent is { } traceparent) fields.Add(new(JobFields.TraceParent, traceparent));
        return fields;
    }

    private static JobRecord Stored(NewJob job, string status, List<KeyValuePair<string, string>> fields, long seq)
    {
        var values = new Dictionary<string, string>(fields)
        {
            [JobFields.Status] = status,
            [JobFields.Sequence] = Text(seq),
        };
        return new JobRecord(job.JobId, values);
    }

    public async Task<JobRecord?> FindAsync(string tenant, string jobId, CancellationToken ct = default)
    {
        if (!IsJobId(jobId)) return null;
        var db = Db;
        // Sent together, so the counters cost no round trip of their own.
        var hash = db.HashGetAllAsync(RedisKeys.Job(jobId));
        var counters = ReadChunkCountsAsync(db, jobId);
        var entries = await hash;
        var chunks = await counters;
        if (entries.Length == 0) return null;
        var job = ToRecord(jobId, entries, chunks);
        return job.Tenant == tenant ? job : null;
    }

    public async Task<JobRecord?> GetAsync(string jobId, CancellationToken ct = default)
    {
        if (!IsJobId(jobId)) return null;
        var entries = await Db.HashGetAllAsync(RedisKeys.Job(jobId));
        return entries.Length == 0 ? null : ToRecord(jobId, entries);
    }

    private static readonly RedisValue[] ChunkCountFields = [ChunkStatsFields.Chunks, ChunkStatsFields.Done];

    // The counters the chunk scripts keep (lib/chunkstats.lua); a job not planned yet has none.
    private static async Task<JobChunkCounts?> ReadChunkCountsAsync(IDatabaseAsync db, string jobId)
    {
        var values = await db.HashGetAsync(RedisKeys.JobChunkStats(jobId), ChunkCountFields);
        return values[0].IsNull ? null : new JobChunkCounts((long)values[0], values[1].IsNull ? 0 : (long)values[1]);
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
            // Every hash and its chunk counters in one pipelined round trip.
            var lookups = entries.Select(e => db.HashGetAllAsync(RedisKeys.Job((string)e.Element!))).ToArray();
            var counters = entries.Select(e => ReadChunkCountsAsync(db, (string)e.Element!)).ToArray();
            for (var i = 0; i < entries.Length; i++)
            {
                var hash = await lookups[i];
                var chunks = await counters[i];
                if (hash.Length == 0) continue;
                var job = ToRecord((string)entries[i].Element!, hash, chunks);
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
        var result = (RedisResult[])(await RequestCancelScript.EvaluateAsync(Db, [RedisKeys.Job(jobId), RedisKeys.CancellingJobs], tenant, now, jobId, now * 1000))!;
        return (long)result[1] == 0
            ? new CancelOutcome(false, null, false)
            : new CancelOutcome(true, (string?)result[0], (long)result[2] == 1);
    }

    public Task<IReadOnlyList<string>> ClaimStaleValidatingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default) =>
        ClaimStaleAsync(_validating, JobStatus.Validating, olderThan, max);

    public Task<IReadOnlyList<string>> ClaimStaleCancellingAsync(DateTimeOffset olderThan, int max, CancellationToken ct = default) =>
        ClaimStaleAsync(_cancelling, JobStatus.Cancelling, olderThan, max);

    // A claim with no lease moves a job's score to now: it comes due again once another whole bound has passed.
    private async Task<IReadOnlyList<string>> ClaimStaleAsync(DueSet set, string status, DateTimeOffset olderThan, int max)
    {
        var claim = await set.ClaimAsync(max, TimeSpan.Zero, now: time.GetUtcNow(), dueBefore: olderThan);
        var db = Db;
        var claimed = new List<string>(claim.Members.Count);
        foreach (var member in claim.Members)
        {
            var waiting = await StillWaitingScript.EvaluateAsync(db, [set.Key, RedisKeys.Job(member.Id)], member.Id, status);
            if ((long)waiting == 1) claimed.Add(member.Id);
        }
        return claimed;
    }

    /// <summary>True for ids of the form the intake hands out, so a crafted id never names another key.</summary>
    public static bool IsJobId(string? jobId) =>
        jobId is { Length: > 6 and <= 80 } && jobId.StartsWith("batch_", StringComparison.Ordinal)
        && jobId.AsSpan(6).IndexOfAnyExcept(OpaqueIds.Characters) < 0;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static JobRecord ToRecord(string jobId, HashEntry[] entries, JobChunkCounts? chunks = null) =>
        new(jobId, entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!), chunks);
}
