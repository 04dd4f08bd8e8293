using BatchAspire.Core.Jobs;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Redis;
using System.Text.Json;
using StackExchange.Redis;

namespace BatchAspire.Core.Polling;

/// <summary>
/// The chunk poll schedule: <c>ba:poll:due</c> (chunk id scored by its next due time, unix ms) with leases and
/// fencing tokens. A claim moves the due chunks' scores to the lease expiry and gives each a fresh token from
/// <c>ba:poll:fence</c>, stored in the chunk's <c>fence</c> field; every later write for that chunk checks the
/// token in the same script, so a replica that was paused past its lease cannot overwrite newer state.
/// Every script reads the clock with Redis <c>TIME</c>, so replicas with skewed clocks still agree on "due".
/// </summary>
/// <remarks>
/// The scripts touch <c>ba:poll:due</c> and the chunk's and job's keys together, so the schedule needs a
/// single Redis node (or one cluster slot): the deployment BatchAspire uses.
/// </remarks>
public sealed class PollSchedule(IConnectionMultiplexer redis)
{
    private static readonly (string Prefix, string ChunkInfix, string JobSuffix) KeyParts = LuaKeyParts();

    /// <summary>
    /// Schedules a chunk's first poll at <paramref name="dueAt"/> (the submitter calls it once the provider batch
    /// id is recorded in the chunk hash). Idempotent: a chunk already scheduled or leased keeps its due time and
    /// lease, and a chunk whose polling finished is not scheduled again. Returns true if this call added it.
    /// </summary>
    public async Task<bool> ScheduleAsync(string chunkId, DateTimeOffset dueAt)
    {
        var added = await Database.ScriptEvaluateAsync(Scripts.Schedule, new
        {
            due = RedisKeys.PollDue,
            chunk = RedisKeys.Chunk(chunkId),
            chunkId = (RedisValue)chunkId,
            dueAt = dueAt.ToUnixTimeMilliseconds(),
        }).ConfigureAwait(false);
        return (long)added == 1;
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> due chunks, leases them for <paramref name="lease"/> and fences them.
    /// Atomic: concurrent claimers never receive the same due chunk. A scheduled chunk whose hash is gone
    /// (the job's keys expired) is dropped from the schedule.
    /// </summary>
    public async Task<PollClaimBatch> ClaimAsync(int max, TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var leaseMs = (long)lease.TotalMilliseconds;
        var reply = (RedisResult[])(await Database.ScriptEvaluateAsync(Scripts.Claim, new
        {
            due = RedisKeys.PollDue,
            fence = RedisKeys.PollFence,
            max,
            leaseMs,
            prefix = KeyParts.Prefix,
            chunkInfix = KeyParts.ChunkInfix,
            jobSuffix = KeyParts.JobSuffix,
        }).ConfigureAwait(false))!;

        var now = (long)reply[0];
        long? nextDue = reply[1].IsNull ? null : (long)(double)reply[1];
        var claims = new List<PollClaim>((reply.Length - 2) / 10);
        for (var i = 2; i + 9 < reply.Length; i += 10)
        {
            claims.Add(new PollClaim
            {
                ChunkId = (string)reply[i]!,
                DueAtMs = (long)(double)reply[i + 1],
                Fence = (long)reply[i + 2],
                ClaimedAtMs = now,
                LeaseUntilMs = now + leaseMs,
                ProviderBatchId = (string?)reply[i + 3],
                PreviousStatus = (string?)reply[i + 4],
                PreviousInterval = reply[i + 5].IsNull ? null : TimeSpan.FromMilliseconds((long)reply[i + 5]),
                TraceParent = (string?)reply[i + 6],
                PreviousDone = reply[i + 7].IsNull && reply[i + 8].IsNull ? null
                    : (reply[i + 7].IsNull ? 0 : (long)reply[i + 7]) + (reply[i + 8].IsNull ? 0 : (long)reply[i + 8]),
                PreviousPolledAtMs = reply[i + 9].IsNull ? null : (long)reply[i + 9],
            });
        }
        return new PollClaimBatch(claims, now, nextDue);
    }

    /// <summary>
    /// Writes a poll result if <paramref name="claim"/>'s token is still the chunk's: the chunk's status, provider
    /// counts, usage and file ids; the job's cached status (<c>validating</c> → <c>in_progress</c> with
    /// <c>in_progress_at</c>) and <c>request_completed</c> (by the change in this chunk's completed count); and the
    /// chunk's next due time, now + <paramref name="nextDelay"/>. <paramref name="interval"/> is remembered as the
    /// base of the next back-off. Returns false, changing nothing, for a stale token.
    /// </summary>
    public async Task<bool> ApplyAsync(PollClaim claim, ProviderBatchSnapshot batch, TimeSpan interval, TimeSpan nextDelay)
    {
        var usage = batch.Usage;
        var applied = await Database.ScriptEvaluateAsync(Scripts.Apply, new
        {
            chunk = RedisKeys.Chunk(claim.ChunkId),
            job = RedisKeys.Job(claim.JobId),
            due = RedisKeys.PollDue,
            chunkId = (RedisValue)claim.ChunkId,
            fence = claim.Fence,
            status = batch.Status,
            total = batch.RequestCounts.Total,
            completed = batch.RequestCounts.Completed,
            failed = batch.RequestCounts.Failed,
            hasUsage = usage is null ? 0 : 1,
            inputTokens = usage?.InputTokens ?? 0,
            cachedTokens = usage?.CachedTokens ?? 0,
            outputTokens = usage?.OutputTokens ?? 0,
            reasoningTokens = usage?.ReasoningTokens ?? 0,
            totalTokens = usage?.TotalTokens ?? 0,
            outputFileId = batch.OutputFileId ?? "",
            errorFileId = batch.ErrorFileId ?? "",
            errors = batch.Errors.Count == 0 ? "" : JsonSerializer.Serialize(batch.Errors, PollJson.Default.IReadOnlyListProviderBatchError),
            startsJob = StartsJob(batch.Status) ? 1 : 0,
            intervalMs = (long)interval.TotalMilliseconds,
            delayMs = (long)nextDelay.TotalMilliseconds,
        }).ConfigureAwait(false);
        return (long)applied == 1;
    }

    /// <summary>
    /// After a failed provider call: moves the chunk's due time out by the error back-off
    /// (<paramref name="errorBase"/> doubling per failure in a row, capped at <paramref name="errorMax"/>).
    /// Fenced. Returns the delay chosen, or null for a stale token.
    /// </summary>
    public async Task<TimeSpan?> DeferAfterErrorAsync(PollClaim claim, TimeSpan errorBase, TimeSpan errorMax)
    {
        var delay = (long)await Database.ScriptEvaluateAsync(Scripts.Defer, new
        {
            chunk = RedisKeys.Chunk(claim.ChunkId),
            due = RedisKeys.PollDue,
            chunkId = (RedisValue)claim.ChunkId,
            fence = claim.Fence,
            baseMs = (long)errorBase.TotalMilliseconds,
            maxMs = (long)errorMax.TotalMilliseconds,
        }).ConfigureAwait(false);
        return delay < 0 ? null : TimeSpan.FromMilliseconds(delay);
    }

    /// <summary>
    /// Removes a terminal chunk from the schedule for good, once its <c>ChunkFinished</c> is published. Fenced:
    /// a stale holder cannot unschedule a chunk that another replica has claimed since.
    /// </summary>
    public async Task<bool> CompleteAsync(PollClaim claim)
    {
        var removed = await Database.ScriptEvaluateAsync(Scripts.Complete, new
        {
            chunk = RedisKeys.Chunk(claim.ChunkId),
            due = RedisKeys.PollDue,
            chunkId = (RedisValue)claim.ChunkId,
            fence = claim.Fence,
        }).ConfigureAwait(false);
        return (long)removed == 1;
    }

    /// <summary>The provider statuses that mean the batch passed validation, so its job is running.</summary>
    internal static bool StartsJob(string status) =>
        status is JobStatus.InProgress or JobStatus.Finalizing or JobStatus.Completed or JobStatus.Expired;

    private IDatabase Database => redis.GetDatabase();

    /// <summary>
    /// The claim script meets chunk ids only once it has read them out of <c>ba:poll:due</c>, so it builds their
    /// keys itself. The parts come from <see cref="RedisKeys"/>' own shapes, keeping the schema in one place.
    /// </summary>
    public static (string Prefix, string ChunkInfix, string JobSuffix) LuaKeyParts()
    {
        const string marker = "\u0001";
        string chunk = RedisKeys.Chunk(ChunkIds.Create(marker, 0))!;   // ba:{•}:chunk:0
        string job = RedisKeys.Job(marker)!;                              // ba:{•}:job
        var inChunk = chunk.IndexOf(marker, StringComparison.Ordinal);
        var inJob = job.IndexOf(marker, StringComparison.Ordinal);
        var prefix = chunk[..inChunk];
        if (!chunk.EndsWith('0') || job[..inJob] != prefix)
        {
            throw new InvalidOperationException("RedisKeys.Chunk and RedisKeys.Job no longer share the shape the poll scripts rely on.");
        }
        return (prefix, chunk[(inChunk + 1)..^1], job[(inJob + 1)..]);
    }

    private static class Scripts
    {
        private const string Now = """
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
            """;

        public static readonly LuaScript Schedule = LuaScript.Prepare($$"""
            if redis.call('HEXISTS', @chunk, '{{ChunkPollFields.PollDoneAtMs}}') == 1 then return 0 end
            return redis.call('ZADD', @due, 'NX', @dueAt, @chunkId)
            """);

        public static readonly LuaScript Claim = LuaScript.Prepare($$"""
            {{Now}}
            local leaseUntil = now + tonumber(@leaseMs)
            local due = redis.call('ZRANGEBYSCORE', @due, '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(@max))
            local out = { now, false }
            for i = 1, #due, 2 do
              local id = due[i]
              local job, n = string.match(id, '^(.+)%.(%d+)$')
              local chunk = job and (@prefix .. job .. @chunkInfix .. n)
              if not chunk or redis.call('EXISTS', chunk) == 0 then
                redis.call('ZREM', @due, id)
              else
                local fence = redis.call('INCR', @fence)
                redis.call('HSET', chunk, '{{ChunkPollFields.Fence}}', fence)
                redis.call('ZADD', @due, 'XX', leaseUntil, id)
                local c = redis.call('HMGET', chunk, '{{ChunkPollFields.ProviderBatchId}}', '{{ChunkPollFields.Status}}', '{{ChunkPollFields.PollIntervalMs}}',
                  '{{ChunkPollFields.ProviderCompleted}}', '{{ChunkPollFields.ProviderFailed}}', '{{ChunkPollFields.PolledAtMs}}')
                local traceparent = redis.call('HGET', @prefix .. job .. @jobSuffix, '{{JobFields.TraceParent}}')
                out[#out + 1] = id
                out[#out + 1] = due[i + 1]
                out[#out + 1] = fence
                out[#out + 1] = c[1]
                out[#out + 1] = c[2]
                out[#out + 1] = c[3]
                out[#out + 1] = traceparent
                out[#out + 1] = c[4]
                out[#out + 1] = c[5]
                out[#out + 1] = c[6]
              end
            end
            local head = redis.call('ZRANGE', @due, 0, 0, 'WITHSCORES')
            if head[2] then out[2] = head[2] end
            return out
            """);

        public static readonly LuaScript Apply = LuaScript.Prepare($$"""
            if redis.call('HGET', @chunk, '{{ChunkPollFields.Fence}}') ~= @fence then return 0 end
            {{Now}}
            local previous = redis.call('HMGET', @chunk, '{{ChunkPollFields.Status}}', '{{ChunkPollFields.ProviderCompleted}}')
            redis.call('HSET', @chunk,
              '{{ChunkPollFields.Status}}', @status,
              '{{ChunkPollFields.ProviderTotal}}', @total,
              '{{ChunkPollFields.ProviderCompleted}}', @completed,
              '{{ChunkPollFields.ProviderFailed}}', @failed,
              '{{ChunkPollFields.PollIntervalMs}}', @intervalMs,
              '{{ChunkPollFields.PolledAtMs}}', now,
              '{{ChunkPollFields.PollErrors}}', 0)
            if previous[1] ~= @status then redis.call('HSET', @chunk, '{{ChunkPollFields.StatusChangedAtMs}}', now) end
            if @hasUsage == '1' then
              redis.call('HSET', @chunk,
                '{{ChunkPollFields.InputTokens}}', @inputTokens,
                '{{ChunkPollFields.CachedTokens}}', @cachedTokens,
                '{{ChunkPollFields.OutputTokens}}', @outputTokens,
                '{{ChunkPollFields.ReasoningTokens}}', @reasoningTokens,
                '{{ChunkPollFields.TotalTokens}}', @totalTokens)
            end
            if @outputFileId ~= '' then redis.call('HSET', @chunk, '{{ChunkPollFields.ProviderOutputFileId}}', @outputFileId) end
            if @errorFileId ~= '' then redis.call('HSET', @chunk, '{{ChunkPollFields.ProviderErrorFileId}}', @errorFileId) end
            if @errors ~= '' then redis.call('HSET', @chunk, '{{ChunkPollFields.ProviderErrors}}', @errors) end

            -- The job's cached view. Once the job is terminal, results owns its counts.
            if redis.call('EXISTS', @job) == 1 then
              local jobStatus = redis.call('HGET', @job, '{{JobFields.Status}}')
              if jobStatus ~= '{{JobStatus.Completed}}' and jobStatus ~= '{{JobStatus.Failed}}' and
                 jobStatus ~= '{{JobStatus.Expired}}' and jobStatus ~= '{{JobStatus.Cancelled}}' then
                local delta = tonumber(@completed) - (tonumber(previous[2]) or 0)
                if delta ~= 0 then redis.call('HINCRBY', @job, '{{JobFields.RequestCompleted}}', delta) end
                if jobStatus == '{{JobStatus.Validating}}' and @startsJob == '1' then
                  redis.call('HSET', @job, '{{JobFields.Status}}', '{{JobStatus.InProgress}}')
                  redis.call('HSETNX', @job, '{{JobFields.InProgressAt}}', math.floor(now / 1000))
                end
              end
            end

            -- XX: a chunk someone took off the schedule (a cancel) is not put back by a late poll.
            redis.call('ZADD', @due, 'XX', now + tonumber(@delayMs), @chunkId)
            return 1
            """);

        public static readonly LuaScript Defer = LuaScript.Prepare($$"""
            if redis.call('HGET', @chunk, '{{ChunkPollFields.Fence}}') ~= @fence then return -1 end
            {{Now}}
            local errors = redis.call('HINCRBY', @chunk, '{{ChunkPollFields.PollErrors}}', 1)
            local delay = math.min(tonumber(@baseMs) * math.pow(2, math.min(errors - 1, 30)), tonumber(@maxMs))
            redis.call('ZADD', @due, 'XX', now + delay, @chunkId)
            return delay
            """);

        public static readonly LuaScript Complete = LuaScript.Prepare($$"""
            if redis.call('HGET', @chunk, '{{ChunkPollFields.Fence}}') ~= @fence then return 0 end
            {{Now}}
            redis.call('ZREM', @due, @chunkId)
            redis.call('HSET', @chunk, '{{ChunkPollFields.PollDoneAtMs}}', now)
            return 1
            """);
    }
}
