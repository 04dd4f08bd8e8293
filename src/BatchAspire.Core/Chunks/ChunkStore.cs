using System.Buffers.Binary;
using System.Globalization;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Chunks;

/// <summary>
/// The job's chunks in Redis (<c>ba:{jobId}:chunks</c>, <c>ba:{jobId}:chunk:{n}</c>, <c>:lines</c>) and the
/// delayed-chunk schedule (<c>ba:chunks:delayed</c>). Every change is one Lua script, so concurrent or
/// redelivered messages cannot interleave a read and a write (no check-then-insert). Scripts read the clock with
/// Redis <c>TIME</c>, so services with skewed clocks agree on leases and due times.
/// </summary>
public sealed class ChunkStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Stores the job's plan once: chunk hashes (attempt 1), the chunk list, <c>request_total</c> (if absent),
    /// the job's entry in <c>ba:jobs:open</c>, and takes it out of <c>ba:jobs:validating</c>. A job that already has
    /// a plan keeps it (the call only repeats the bookkeeping); a job that is gone or terminal gets none.
    /// </summary>
    public async Task<PlanOutcome> PlanAsync(string jobId, long totalLines, IReadOnlyList<PlannedChunk> plan)
    {
        var (prefix, _) = KeyShape(jobId);
        var args = new List<RedisValue>(4 + plan.Count * 2) { jobId, prefix, totalLines, ChunkKinds.Range };
        foreach (var chunk in plan) { args.Add(chunk.First); args.Add(chunk.Count); }
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Plan,
            [RedisKeys.Job(jobId), RedisKeys.JobChunks(jobId), RedisKeys.ValidatingJobs, RedisKeys.OpenJobs], [.. args]))!;
        return new PlanOutcome((string)reply[0]! switch
        {
            "planned" => PlanResult.Planned,
            "existing" => PlanResult.AlreadyPlanned,
            "terminal" => PlanResult.JobTerminal,
            _ => PlanResult.JobMissing,
        }, (long)reply[1]);
    }

    public async Task<IReadOnlyList<string>> ListAsync(string jobId)
    {
        var ids = await Db.ListRangeAsync(RedisKeys.JobChunks(jobId));
        return [.. ids.Select(v => (string)v!)];
    }

    public async Task<ChunkRecord?> GetAsync(string chunkId) =>
        ChunkRecord.From(chunkId, await Db.HashGetAllAsync(RedisKeys.Chunk(chunkId)));

    /// <summary>The 0-based input line indexes of a chunk, ascending.</summary>
    public async Task<long[]> ReadLineIndexesAsync(ChunkRecord chunk)
    {
        if (!chunk.IsList)
        {
            var range = new long[chunk.Count];
            for (var i = 0; i < range.Length; i++) range[i] = chunk.First + i;
            return range;
        }
        byte[]? packed = await Db.StringGetAsync(RedisKeys.ChunkLines(chunk.Id));
        return UnpackLines(packed ?? []);
    }

    /// <summary>
    /// Takes the submit lease of a chunk that still needs a provider batch, and arms the watchdog: the chunk is due
    /// in <c>ba:chunks:delayed</c> when the lease lapses, so a submitter that dies mid-way is replaced.
    /// </summary>
    public async Task<LeaseOutcome> TakeSubmitLeaseAsync(string chunkId, string token, TimeSpan lease)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.TakeLease,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId)), RedisKeys.DelayedChunks],
            [token, (long)lease.TotalMilliseconds, chunkId]))!;
        var state = (string)reply[0]!;
        return new LeaseOutcome(state switch
        {
            "taken" => LeaseResult.Taken,
            "submitted" => LeaseResult.AlreadySubmitted,
            "closed" => LeaseResult.Closed,
            "busy" => LeaseResult.Busy,
            "stopping" => LeaseResult.JobStopping,
            _ => LeaseResult.Missing,
        }, reply.Length > 1 ? (string?)reply[1] : null);
    }

    /// <summary>Extends the lease (and its watchdog) if <paramref name="token"/> still holds it.</summary>
    public async Task<bool> RenewSubmitLeaseAsync(string chunkId, string token, TimeSpan lease) =>
        (long)await Db.ScriptEvaluateAsync(Scripts.RenewLease, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            [token, (long)lease.TotalMilliseconds, chunkId]) == 1;

    /// <summary>Gives the lease back (the watchdog entry stays unless <paramref name="unschedule"/>).</summary>
    public async Task ReleaseSubmitLeaseAsync(string chunkId, string token, bool unschedule) =>
        await Db.ScriptEvaluateAsync(Scripts.ReleaseLease, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            [token, unschedule ? 1 : 0, chunkId]);

    /// <summary>
    /// The point of no return before a create: checks the lease and the job once more, records the uploaded file,
    /// and stamps <c>create_started_at_ms</c> (kept from the first create), so whoever comes next looks up by
    /// metadata before creating.
    /// </summary>
    public async Task<BeginCreateOutcome> BeginCreateAsync(string chunkId, string token, string providerFileId)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.BeginCreate,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId))], [token, providerFileId]))!;
        return (string)reply[0]! switch
        {
            "go" => new BeginCreateOutcome(BeginCreateResult.Go, (long)reply[1], null) { CreatedBefore = (long)reply[2] == 1 },
            "submitted" => new BeginCreateOutcome(BeginCreateResult.AlreadySubmitted, 0, (string?)reply[1]),
            "stopping" => new BeginCreateOutcome(BeginCreateResult.JobStopping, 0, null),
            _ => new BeginCreateOutcome(BeginCreateResult.LeaseLost, 0, null),
        };
    }

    /// <summary>Records the provider batch of a chunk once. A chunk closed meanwhile, or holding another batch, is left as it is.</summary>
    public async Task<RecordOutcome> RecordSubmissionAsync(string chunkId, string providerBatchId, string providerFileId, string providerStatus)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Record,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId)), RedisKeys.DelayedChunks],
            [providerBatchId, providerFileId, providerStatus, chunkId]))!;
        var state = (string)reply[0]!;
        return state switch
        {
            "recorded" => new RecordOutcome(RecordResult.Recorded, providerBatchId, IsStopping((string?)reply[1], (string?)reply[2])),
            "exists" => new RecordOutcome(RecordResult.OtherBatchRecorded, (string?)reply[1], false),
            _ => new RecordOutcome(RecordResult.ChunkClosed, null, true),
        };
    }

    /// <summary>
    /// Closes a chunk that has no provider batch (it will never get one): status <paramref name="status"/>,
    /// <c>close_reason</c> <paramref name="reason"/>. Returns what the chunk is now: closed (by this or an earlier
    /// call), or submitted (with its provider batch id and last status).
    /// </summary>
    public async Task<CloseOutcome> CloseIfUnsubmittedAsync(string chunkId, string reason, string status)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Close,
            [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks], [reason, status, chunkId]))!;
        return (string)reply[0]! switch
        {
            "closed" => new CloseOutcome(CloseResult.Closed, null, (string?)reply[1]),
            "submitted" => new CloseOutcome(CloseResult.Submitted, (string?)reply[1], (string?)reply[2]),
            _ => new CloseOutcome(CloseResult.Missing, null, null),
        };
    }

    /// <summary>
    /// Puts a chunk in <c>ba:chunks:delayed</c>: due after <paramref name="delay"/>, or — when
    /// <paramref name="countRefusal"/> — after <paramref name="delay"/> doubled per refusal in a row, capped at
    /// <paramref name="maxDelay"/>. Returns the delay chosen.
    /// </summary>
    public async Task<TimeSpan> DelayAsync(string chunkId, TimeSpan delay, TimeSpan maxDelay, bool countRefusal)
    {
        var ms = (long)await Db.ScriptEvaluateAsync(Scripts.Delay, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            [chunkId, (long)delay.TotalMilliseconds, (long)maxDelay.TotalMilliseconds, countRefusal ? 1 : 0]);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Takes up to <paramref name="max"/> due delayed chunks; each stays hidden for <paramref name="lease"/> (then is due again unless handled).</summary>
    public async Task<IReadOnlyList<string>> ClaimDelayedAsync(int max, TimeSpan lease)
    {
        var ids = (RedisValue[])(await Db.ScriptEvaluateAsync(Scripts.ClaimDelayed, [RedisKeys.DelayedChunks],
            [max, (long)lease.TotalMilliseconds]))!;
        return [.. ids.Select(v => (string)v!)];
    }

    public Task<bool> UndelayAsync(string chunkId) => Db.SortedSetRemoveAsync(RedisKeys.DelayedChunks, chunkId);

    public async Task<double?> DelayedDueAsync(string chunkId) => await Db.SortedSetScoreAsync(RedisKeys.DelayedChunks, chunkId);

    /// <summary>True when every chunk of the job has had its results stored (or the job has no chunks yet: false).</summary>
    public async Task<bool> AllResultsDoneAsync(string jobId)
    {
        var (prefix, _) = KeyShape(jobId);
        return (long)await Db.ScriptEvaluateAsync(Scripts.AllDone, [RedisKeys.JobChunks(jobId)], [prefix]) == 1;
    }

    /// <summary>
    /// The Lua-side shape of a job's chunk keys: chunk <c>n</c> is <c>prefix .. n</c> and its line list
    /// <c>prefix .. n .. linesSuffix</c>. Derived from <see cref="RedisKeys"/> so the schema stays in one place.
    /// </summary>
    public static (string Prefix, string LinesSuffix) KeyShape(string jobId)
    {
        var zero = ChunkIds.Create(jobId, 0);
        string chunk = RedisKeys.Chunk(zero)!;
        string lines = RedisKeys.ChunkLines(zero)!;
        if (!chunk.EndsWith('0') || !lines.StartsWith(chunk, StringComparison.Ordinal))
            throw new InvalidOperationException("RedisKeys.Chunk/ChunkLines no longer have the shape the chunk scripts rely on.");
        return (chunk[..^1], lines[chunk.Length..]);
    }

    public static byte[] PackLines(IReadOnlyList<long> lines)
    {
        var packed = new byte[lines.Count * 4];
        for (var i = 0; i < lines.Count; i++) BinaryPrimitives.WriteUInt32LittleEndian(packed.AsSpan(i * 4), checked((uint)lines[i]));
        return packed;
    }

    public static long[] UnpackLines(ReadOnlySpan<byte> packed)
    {
        var lines = new long[packed.Length / 4];
        for (var i = 0; i < lines.Length; i++) lines[i] = BinaryPrimitives.ReadUInt32LittleEndian(packed[(i * 4)..]);
        return lines;
    }

    internal static bool IsStopping(string? status, string? expiringAt) =>
        status is JobStatus.Cancelling || JobStatus.IsTerminal(status) || !string.IsNullOrEmpty(expiringAt);

    internal static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static class Scripts
    {
        private const string Now = """
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
            """;

        // Lua: is the job (status s, expiring_at e) past the point where anything new may be submitted?
        private const string Stopping = $$"""
            local function stopping(s, e)
              return s == '{{JobStatus.Cancelling}}' or s == '{{JobStatus.Cancelled}}' or s == '{{JobStatus.Completed}}'
                or s == '{{JobStatus.Failed}}' or s == '{{JobStatus.Expired}}' or (e ~= false and e ~= nil)
            end
            """;

        public const string Plan = $$"""
            local status = redis.call('HGET', KEYS[1], '{{JobFields.Status}}')
            if not status then return {'missing', 0} end
            if redis.call('EXISTS', KEYS[2]) == 1 then
              redis.call('ZREM', KEYS[3], ARGV[1])
              return {'existing', redis.call('LLEN', KEYS[2])}
            end
            if status == '{{JobStatus.Completed}}' or status == '{{JobStatus.Failed}}' or status == '{{JobStatus.Expired}}' or status == '{{JobStatus.Cancelled}}' then
              redis.call('ZREM', KEYS[3], ARGV[1])
              return {'terminal', 0}
            end
            local n = 0
            for i = 5, #ARGV, 2 do
              redis.call('HSET', ARGV[2] .. n, '{{ChunkFields.Kind}}', ARGV[4], '{{ChunkFields.First}}', ARGV[i],
                '{{ChunkFields.Count}}', ARGV[i + 1], '{{ChunkFields.Attempt}}', 1)
              redis.call('RPUSH', KEYS[2], ARGV[1] .. '.' .. n)
              n = n + 1
            end
            redis.call('HSETNX', KEYS[1], '{{JobFields.RequestTotal}}', ARGV[3])
            redis.call('ZREM', KEYS[3], ARGV[1])
            local created = tonumber(redis.call('HGET', KEYS[1], '{{JobFields.CreatedAt}}') or '')
            if not created then
              local clock = redis.call('TIME')
              created = tonumber(clock[1])
            end
            redis.call('ZADD', KEYS[4], 'NX', created * 1000, ARGV[1])
            return {'planned', n}
            """;

        public const string TakeLease = $$"""
            {{Now}}
            {{Stopping}}
            local c = redis.call('HMGET', KEYS[1], '{{ChunkPollFields.ProviderBatchId}}', '{{ChunkFields.Closed}}',
              '{{ChunkFields.SubmitLease}}', '{{ChunkFields.SubmitLeaseUntilMs}}', '{{ChunkFields.Kind}}')
            if not c[5] then return {'missing'} end
            if c[1] then return {'submitted', c[1]} end
            if c[2] then return {'closed'} end
            if c[3] and c[3] ~= ARGV[1] and tonumber(c[4]) > now then return {'busy', c[4]} end
            local j = redis.call('HMGET', KEYS[2], '{{JobFields.Status}}', '{{JobFields.ExpiringAt}}')
            if stopping(j[1], j[2]) then return {'stopping', j[1] or ''} end
            local untilMs = now + tonumber(ARGV[2])
            redis.call('HSET', KEYS[1], '{{ChunkFields.SubmitLease}}', ARGV[1], '{{ChunkFields.SubmitLeaseUntilMs}}', untilMs)
            redis.call('ZADD', KEYS[3], untilMs + 1000, ARGV[3])
            return {'taken'}
            """;

        public const string RenewLease = $$"""
            {{Now}}
            if redis.call('HGET', KEYS[1], '{{ChunkFields.SubmitLease}}') ~= ARGV[1] then return 0 end
            local untilMs = now + tonumber(ARGV[2])
            redis.call('HSET', KEYS[1], '{{ChunkFields.SubmitLeaseUntilMs}}', untilMs)
            redis.call('ZADD', KEYS[2], 'XX', untilMs + 1000, ARGV[3])
            return 1
            """;

        public const string ReleaseLease = $$"""
            if redis.call('HGET', KEYS[1], '{{ChunkFields.SubmitLease}}') ~= ARGV[1] then return 0 end
            redis.call('HDEL', KEYS[1], '{{ChunkFields.SubmitLease}}', '{{ChunkFields.SubmitLeaseUntilMs}}')
            if ARGV[2] == '1' then redis.call('ZREM', KEYS[2], ARGV[3]) end
            return 1
            """;

        public const string BeginCreate = $$"""
            {{Now}}
            {{Stopping}}
            local c = redis.call('HMGET', KEYS[1], '{{ChunkFields.SubmitLease}}', '{{ChunkPollFields.ProviderBatchId}}', '{{ChunkFields.CreateStartedAtMs}}')
            if c[2] then return {'submitted', c[2]} end
            if c[1] ~= ARGV[1] then return {'lost'} end
            local j = redis.call('HMGET', KEYS[2], '{{JobFields.Status}}', '{{JobFields.ExpiringAt}}')
            if stopping(j[1], j[2]) then return {'stopping'} end
            redis.call('HSET', KEYS[1], '{{ChunkFields.ProviderFileId}}', ARGV[2])
            if not c[3] then
              redis.call('HSET', KEYS[1], '{{ChunkFields.CreateStartedAtMs}}', now)
              return {'go', now, 0}
            end
            return {'go', tonumber(c[3]), 1}
            """;

        public const string Record = $$"""
            {{Now}}
            local c = redis.call('HMGET', KEYS[1], '{{ChunkPollFields.ProviderBatchId}}', '{{ChunkFields.Closed}}')
            if c[1] then return {'exists', c[1]} end
            if c[2] then return {'closed'} end
            redis.call('HSET', KEYS[1], '{{ChunkPollFields.ProviderBatchId}}', ARGV[1], '{{ChunkFields.ProviderFileId}}', ARGV[2],
              '{{ChunkPollFields.Status}}', ARGV[3], '{{ChunkFields.SubmittedAtMs}}', now)
            redis.call('HDEL', KEYS[1], '{{ChunkFields.SubmitLease}}', '{{ChunkFields.SubmitLeaseUntilMs}}', '{{ChunkFields.Refusals}}')
            redis.call('ZREM', KEYS[3], ARGV[4])
            local j = redis.call('HMGET', KEYS[2], '{{JobFields.Status}}', '{{JobFields.ExpiringAt}}')
            return {'recorded', j[1] or '', j[2] or ''}
            """;

        public const string Close = $$"""
            local c = redis.call('HMGET', KEYS[1], '{{ChunkPollFields.ProviderBatchId}}', '{{ChunkFields.Closed}}',
              '{{ChunkPollFields.Status}}', '{{ChunkFields.Kind}}', '{{ChunkFields.CloseReason}}')
            if not c[4] then return {'missing'} end
            if c[1] then return {'submitted', c[1], c[3] or ''} end
            if c[2] then return {'closed', c[5] or ARGV[1]} end
            redis.call('HSET', KEYS[1], '{{ChunkFields.Closed}}', 1, '{{ChunkFields.CloseReason}}', ARGV[1], '{{ChunkPollFields.Status}}', ARGV[2])
            redis.call('HDEL', KEYS[1], '{{ChunkFields.SubmitLease}}', '{{ChunkFields.SubmitLeaseUntilMs}}')
            redis.call('ZREM', KEYS[2], ARGV[3])
            return {'closed', ARGV[1]}
            """;

        public const string Delay = $$"""
            {{Now}}
            local delay = tonumber(ARGV[2])
            if ARGV[4] == '1' then
              local n = redis.call('HINCRBY', KEYS[1], '{{ChunkFields.Refusals}}', 1)
              delay = math.min(delay * math.pow(2, math.min(n - 1, 30)), tonumber(ARGV[3]))
            end
            delay = math.floor(delay)
            redis.call('ZADD', KEYS[2], now + delay, ARGV[1])
            return delay
            """;

        public const string ClaimDelayed = $$"""
            {{Now}}
            local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
            for _, id in ipairs(ids) do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), id) end
            return ids
            """;

        public const string AllDone = $$"""
            local ids = redis.call('LRANGE', KEYS[1], 0, -1)
            if #ids == 0 then return 0 end
            for _, id in ipairs(ids) do
              local n = string.match(id, '%.(%d+)$')
              if not n or redis.call('HEXISTS', ARGV[1] .. n, '{{ChunkFields.ResultsDone}}') == 0 then return 0 end
            end
            return 1
            """;
    }
}

public enum PlanResult { Planned, AlreadyPlanned, JobTerminal, JobMissing }

public sealed record PlanOutcome(PlanResult Result, long Chunks);

public enum LeaseResult { Taken, AlreadySubmitted, Closed, Busy, JobStopping, Missing }

/// <param name="Detail">The provider batch id (already submitted), the lease expiry (busy) or the job status (stopping).</param>
public sealed record LeaseOutcome(LeaseResult Result, string? Detail);

public enum BeginCreateResult { Go, AlreadySubmitted, JobStopping, LeaseLost }

/// <param name="CreateStartedAtMs">When the first create of this chunk started (unix ms): a lookup by metadata only needs batches from then on.</param>
/// <param name="Detail">The provider batch id when already submitted.</param>
public sealed record BeginCreateOutcome(BeginCreateResult Result, long CreateStartedAtMs, string? Detail)
{
    /// <summary>True when an earlier create of this chunk may have reached the provider.</summary>
    public bool CreatedBefore { get; init; }
}

public enum RecordResult { Recorded, OtherBatchRecorded, ChunkClosed }

/// <param name="JobStopping">The job is being cancelled or expired: the batch just recorded should be cancelled at once.</param>
public sealed record RecordOutcome(RecordResult Result, string? ProviderBatchId, bool JobStopping);

public enum CloseResult { Closed, Submitted, Missing }

/// <param name="Detail">The close reason (closed) or the provider batch's last status (submitted).</param>
public sealed record CloseOutcome(CloseResult Result, string? ProviderBatchId, string? Detail);
