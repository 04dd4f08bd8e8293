using System.Globalization;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Results;

/// <summary>One request's final result on its way into <c>ba:{jobId}:results</c>.</summary>
public readonly record struct FinalResult(long LineIndex, bool IsFailure, ReadOnlyMemory<byte> Line);

/// <summary>What a finished chunk hands on: nothing, a retry chunk (next attempt) or a chunk to submit again later (capacity).</summary>
public enum SuccessorKind { None, Retry, Capacity }

/// <summary>
/// The job's results in Redis: <c>ba:{jobId}:results</c> (line index → final result line), the failure bitmap
/// <c>ba:{jobId}:failures</c>, the chunk bookkeeping of results, and the job's final commit. Every write is a Lua
/// script guarded so that running it twice (a redelivered message, two racing consumers) changes nothing more.
/// </summary>
public sealed class ResultStore(IConnectionMultiplexer redis)
{
    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Stores final results with HSETNX semantics in one script: a line that already has its final result keeps it,
    /// and its failure bit is set only together with the result that won. Returns how many were new.
    /// </summary>
    public async Task<long> StoreFinalsAsync(string jobId, IReadOnlyList<FinalResult> results)
    {
        if (results.Count == 0) return 0;
        var args = new RedisValue[results.Count * 3];
        for (var i = 0; i < results.Count; i++)
        {
            args[i * 3] = results[i].LineIndex;
            args[i * 3 + 1] = results[i].IsFailure ? 1 : 0;
            args[i * 3 + 2] = results[i].Line;
        }
        return (long)await Db.ScriptEvaluateAsync(Scripts.StoreFinals, [RedisKeys.JobResults(jobId), RedisKeys.JobFailures(jobId)], args);
    }

    /// <summary>
    /// Marks a chunk's results stored, once: records the usage counted from its lines and, when
    /// <paramref name="successor"/> is not None, creates the chunk that carries <paramref name="successorLines"/> on
    /// (a retry with attempt <paramref name="successorAttempt"/>, or a capacity re-send due after
    /// <paramref name="capacityDelay"/> in <c>ba:chunks:delayed</c>). A second call returns the first call's successor
    /// and creates nothing.
    /// </summary>
    public async Task<CompleteChunkOutcome> CompleteChunkAsync(string chunkId, TokenUsage lineUsage, SuccessorKind successor,
        IReadOnlyList<long> successorLines, int successorAttempt, TimeSpan capacityDelay)
    {
        var jobId = ChunkIds.JobOf(chunkId);
        var (prefix, linesSuffix) = ChunkStore.KeyShape(jobId);
        RedisValue kind = successor switch { SuccessorKind.Retry => "retry", SuccessorKind.Capacity => "capacity", _ => "" };
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.CompleteChunk,
            [RedisKeys.Chunk(chunkId), RedisKeys.JobChunks(jobId), RedisKeys.DelayedChunks],
            [
                jobId, prefix, linesSuffix, kind, successorAttempt,
                successor == SuccessorKind.None ? RedisValue.EmptyString : ChunkStore.PackLines(successorLines),
                successorLines.Count, (long)capacityDelay.TotalMilliseconds, chunkId,
                lineUsage.InputTokens, lineUsage.CachedTokens, lineUsage.OutputTokens, lineUsage.ReasoningTokens,
            ]))!;
        var successorId = (string?)reply[1];
        return new CompleteChunkOutcome((string)reply[0]! == "completed", string.IsNullOrEmpty(successorId) ? null : successorId);
    }

    public Task<long> CountAsync(string jobId) => Db.HashLengthAsync(RedisKeys.JobResults(jobId));

    /// <summary>Moves a running job to <c>finalizing</c> (once) while its files are written.</summary>
    public Task BeginFinalizingAsync(string jobId) =>
        Db.ScriptEvaluateAsync(Scripts.BeginFinalizing, [RedisKeys.Job(jobId)], []);

    /// <summary>Marks a job past its completion window (<c>expiring_at</c>, once). False when the job is terminal or gone.</summary>
    public async Task<bool> StartExpiryAsync(string jobId) =>
        (long)await Db.ScriptEvaluateAsync(Scripts.StartExpiry, [RedisKeys.Job(jobId), RedisKeys.OpenJobs], [jobId]) == 1;

    /// <summary>Open jobs created at or before <paramref name="createdBefore"/>, oldest first.</summary>
    public async Task<IReadOnlyList<string>> OpenJobsCreatedBeforeAsync(DateTimeOffset createdBefore, int max)
    {
        var ids = await Db.SortedSetRangeByScoreAsync(RedisKeys.OpenJobs, double.NegativeInfinity,
            createdBefore.ToUnixTimeMilliseconds(), take: max);
        return [.. ids.Select(v => (string)v!)];
    }

    public Task<bool> ForgetOpenJobAsync(string jobId) => Db.SortedSetRemoveAsync(RedisKeys.OpenJobs, jobId);

    /// <summary>The usage of every chunk of the job: the provider's batch usage where it reported one, else the sum over the chunk's lines.</summary>
    public async Task<TokenUsage> SumUsageAsync(string jobId)
    {
        var db = Db;
        var ids = await db.ListRangeAsync(RedisKeys.JobChunks(jobId));
        RedisValue[] fields =
        [
            Polling.ChunkPollFields.InputTokens, Polling.ChunkPollFields.CachedTokens, Polling.ChunkPollFields.OutputTokens,
            Polling.ChunkPollFields.ReasoningTokens, ChunkFields.LineInputTokens, ChunkFields.LineCachedTokens,
            ChunkFields.LineOutputTokens, ChunkFields.LineReasoningTokens,
        ];
        var reads = ids.Select(id => db.HashGetAsync(RedisKeys.Chunk((string)id!), fields)).ToArray();
        var total = default(TokenUsage);
        foreach (var read in reads)
        {
            var v = await read;
            total += v[0].IsNull
                ? new TokenUsage(Long(v[4]), Long(v[5]), Long(v[6]), Long(v[7]))
                : new TokenUsage(Long(v[0]), Long(v[1]), Long(v[2]), Long(v[3]));
        }
        return total;
    }

    /// <summary>
    /// Ends the job in one script, if nobody ended it first: status, timestamps, file ids, final request counts,
    /// usage and cost; the job leaves <c>ba:jobs:open</c>. Returns false (changing nothing) when the job was already
    /// terminal: the caller's files lost the race and must be deleted.
    /// </summary>
    public async Task<CommitOutcome> CommitAsync(string jobId, JobCompletion completion)
    {
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Commit, [RedisKeys.Job(jobId), RedisKeys.OpenJobs],
        [
            jobId, completion.Status, StatusTimestampField(completion.Status),
            completion.OutputFileId ?? "", completion.ErrorFileId ?? "",
            completion.Completed, completion.Failed,
            completion.Usage.InputTokens, completion.Usage.CachedTokens, completion.Usage.OutputTokens, completion.Usage.ReasoningTokens,
            completion.Cost is { } cost ? cost.BatchUsd.ToString("R", CultureInfo.InvariantCulture) : "",
            completion.Cost is { } c ? c.StandardUsd.ToString("R", CultureInfo.InvariantCulture) : "",
        ]))!;
        return new CommitOutcome((string)reply[0]! == "won", (string?)reply[1]);
    }

    private static string StatusTimestampField(string status) => status switch
    {
        JobStatus.Completed => JobFields.CompletedAt,
        JobStatus.Cancelled => JobFields.CancelledAt,
        JobStatus.Expired => JobFields.ExpiredAt,
        JobStatus.Failed => JobFields.FailedAt,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Not a terminal status."),
    };

    private static long Long(RedisValue value) => value.IsNull ? 0 : (long)value;

    private static class Scripts
    {
        private const string Now = """
            local clock = redis.call('TIME')
            local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
            """;

        private const string Terminal = $$"""
            local function terminal(s)
              return s == '{{JobStatus.Completed}}' or s == '{{JobStatus.Failed}}' or s == '{{JobStatus.Expired}}' or s == '{{JobStatus.Cancelled}}'
            end
            """;

        public const string StoreFinals = """
            local stored = 0
            for i = 1, #ARGV, 3 do
              if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 2]) == 1 then
                stored = stored + 1
                if ARGV[i + 1] == '1' then redis.call('SETBIT', KEYS[2], ARGV[i], 1) end
              end
            end
            return stored
            """;

        public const string CompleteChunk = $$"""
            {{Now}}
            if redis.call('HEXISTS', KEYS[1], '{{ChunkFields.ResultsDone}}') == 1 then
              return {'done', redis.call('HGET', KEYS[1], '{{ChunkFields.Successor}}') or ''}
            end
            local successor = ''
            if ARGV[4] ~= '' then
              local n = redis.call('LLEN', KEYS[2])
              successor = ARGV[1] .. '.' .. n
              redis.call('HSET', ARGV[2] .. n, '{{ChunkFields.Kind}}', '{{ChunkKinds.List}}', '{{ChunkFields.Count}}', ARGV[7],
                '{{ChunkFields.Attempt}}', ARGV[5], '{{ChunkFields.Parent}}', ARGV[9])
              redis.call('SET', ARGV[2] .. n .. ARGV[3], ARGV[6])
              redis.call('RPUSH', KEYS[2], successor)
              redis.call('HSET', KEYS[1], '{{ChunkFields.Successor}}', successor)
              if ARGV[4] == 'capacity' then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), successor) end
            end
            redis.call('HSET', KEYS[1], '{{ChunkFields.ResultsDone}}', now,
              '{{ChunkFields.LineInputTokens}}', ARGV[10], '{{ChunkFields.LineCachedTokens}}', ARGV[11],
              '{{ChunkFields.LineOutputTokens}}', ARGV[12], '{{ChunkFields.LineReasoningTokens}}', ARGV[13])
            return {'completed', successor}
            """;

        public const string BeginFinalizing = $$"""
            {{Now}}
            local s = redis.call('HGET', KEYS[1], '{{JobFields.Status}}')
            if s == '{{JobStatus.Validating}}' or s == '{{JobStatus.InProgress}}' then
              redis.call('HSET', KEYS[1], '{{JobFields.Status}}', '{{JobStatus.Finalizing}}')
              redis.call('HSETNX', KEYS[1], '{{JobFields.InProgressAt}}', math.floor(now / 1000))
            end
            if s and not (s == '{{JobStatus.Completed}}' or s == '{{JobStatus.Failed}}' or s == '{{JobStatus.Expired}}' or s == '{{JobStatus.Cancelled}}') then
              redis.call('HSETNX', KEYS[1], '{{JobFields.FinalizingAt}}', math.floor(now / 1000))
            end
            return 1
            """;

        public const string StartExpiry = $$"""
            {{Now}}
            {{Terminal}}
            local s = redis.call('HGET', KEYS[1], '{{JobFields.Status}}')
            if not s or terminal(s) then
              redis.call('ZREM', KEYS[2], ARGV[1])
              return 0
            end
            redis.call('HSETNX', KEYS[1], '{{JobFields.ExpiringAt}}', math.floor(now / 1000))
            return 1
            """;

        public const string Commit = $$"""
            {{Now}}
            {{Terminal}}
            local s = redis.call('HGET', KEYS[1], '{{JobFields.Status}}')
            if not s then return {'missing', ''} end
            if terminal(s) then
              redis.call('ZREM', KEYS[2], ARGV[1])
              return {'lost', s}
            end
            local seconds = math.floor(now / 1000)
            redis.call('HSET', KEYS[1], '{{JobFields.Status}}', ARGV[2],
              '{{JobFields.RequestCompleted}}', ARGV[6], '{{JobFields.RequestFailed}}', ARGV[7],
              '{{JobFields.InputTokens}}', ARGV[8], '{{JobFields.CachedTokens}}', ARGV[9],
              '{{JobFields.OutputTokens}}', ARGV[10], '{{JobFields.ReasoningTokens}}', ARGV[11])
            redis.call('HSETNX', KEYS[1], '{{JobFields.FinalizingAt}}', seconds)
            redis.call('HSETNX', KEYS[1], ARGV[3], seconds)
            if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.OutputFileId}}', ARGV[4]) end
            if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.ErrorFileId}}', ARGV[5]) end
            if ARGV[12] ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.CostBatchUsd}}', ARGV[12], '{{JobFields.CostStandardUsd}}', ARGV[13]) end
            redis.call('ZREM', KEYS[2], ARGV[1])
            return {'won', ARGV[2]}
            """;
    }
}

/// <param name="CompletedNow">False when an earlier call had already completed the chunk.</param>
/// <param name="SuccessorChunkId">The chunk carrying this chunk's retryable requests, created now or before.</param>
public sealed record CompleteChunkOutcome(bool CompletedNow, string? SuccessorChunkId);

/// <summary>What the job ends with.</summary>
public sealed record JobCompletion(string Status, string? OutputFileId, string? ErrorFileId, long Completed, long Failed, TokenUsage Usage, JobCost? Cost);

/// <param name="Won">True when this commit ended the job; false when it was already terminal (<paramref name="Status"/>).</param>
public sealed record CommitOutcome(bool Won, string? Status);
