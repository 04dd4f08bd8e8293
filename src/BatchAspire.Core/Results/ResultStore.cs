using System.Buffers.Binary;
using System.Globalization;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using BatchAspire.Storage;
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
public sealed class ResultStore(IConnectionMultiplexer redis, IBlobStore blobs, BlobDeletions deletions)
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
    /// and creates nothing. The pass that completes the chunk records its result runs <paramref name="output"/> and
    /// <paramref name="error"/>; any other pass must delete its own.
    /// </summary>
    public async Task<CompleteChunkOutcome> CompleteChunkAsync(string chunkId, TokenUsage lineUsage, SuccessorKind successor,
        IReadOnlyList<long> successorLines, int successorAttempt, TimeSpan capacityDelay, ResultRun? output = null, ResultRun? error = null,
        bool deleteProviderFiles = false)
    {
        var jobId = ChunkIds.JobOf(chunkId);
        var (prefix, linesSuffix) = ChunkStore.KeyShape(jobId);
        RedisValue kind = successor switch { SuccessorKind.Retry => "retry", SuccessorKind.Capacity => "capacity", _ => "" };
        RedisKey[] keys =
        [
            RedisKeys.Chunk(chunkId), RedisKeys.JobChunks(jobId), RedisKeys.DelayedChunks, RedisKeys.ProviderFilesToDelete,
            RedisKeys.BlobsToDelete,
        ];
        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.CompleteChunk, keys,
            [
                jobId, prefix, linesSuffix, kind, successorAttempt,
                successor == SuccessorKind.None ? RedisValue.EmptyString : ChunkStore.PackLines(successorLines),
                successorLines.Count, (long)capacityDelay.TotalMilliseconds, chunkId,
                lineUsage.InputTokens, lineUsage.CachedTokens, lineUsage.OutputTokens, lineUsage.ReasoningTokens,
                output?.Format() ?? "", error?.Format() ?? "", deleteProviderFiles ? 1 : 0,
                output?.Prefix ?? "", error?.Prefix ?? "",
            ]))!;
        var successorId = (string?)reply[1];
        return new CompleteChunkOutcome((string)reply[0]! == "completed", string.IsNullOrEmpty(successorId) ? null : successorId,
            [.. reply.Skip(2).Select(id => (string)id!)]);
    }

    /// <summary>A writer for one result run of the job (see <see cref="ResultRunWriter"/>).</summary>
    public ResultRunWriter CreateRunWriter(string jobId, string runId, RunKind kind) => new(blobs, deletions, jobId, runId, kind);

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
    /// Ends the job in one script, if nobody ended it first: creates its output and error files from the assembled
    /// parts (a file's hash lists its parts: runs taken whole and the parts assembly staged, so no line is copied
    /// here), sets the job's status, timestamps, file ids, final request counts, usage and cost, takes it out of
    /// <c>ba:jobs:open</c>, and lists the runs no file took for deletion, then deletes them (the results hash and
    /// failure bitmap expire an hour later, after any straggling writer). Returns false, changing nothing, when the
    /// job was already terminal: the caller's staged parts are then deleted when it disposes <paramref name="assembled"/>.
    /// </summary>
    public async Task<CommitOutcome> CommitAsync(string jobId, JobCompletion completion, AssembledJob assembled)
    {
        var keys = new List<RedisKey>
        {
            RedisKeys.Job(jobId), RedisKeys.OpenJobs, RedisKeys.Sequence, RedisKeys.TenantFiles(assembled.Request.Tenant), RedisKeys.ExpiringFiles,
            RedisKeys.BlobsToDelete, RedisKeys.JobResults(jobId), RedisKeys.JobFailures(jobId), RedisKeys.TenantUsage(assembled.Request.Tenant),
        };
        var args = new List<RedisValue>
        {
            jobId, completion.Status, StatusTimestampField(completion.Status),
            assembled.Output.Lines, assembled.Errors.Lines,
            completion.Usage.InputTokens, completion.Usage.CachedTokens, completion.Usage.OutputTokens, completion.Usage.ReasoningTokens,
            completion.Cost is { } cost ? cost.BatchUsd.ToString("R", CultureInfo.InvariantCulture) : "",
            completion.Cost is { } c ? c.StandardUsd.ToString("R", CultureInfo.InvariantCulture) : "",
            assembled.Request.Tenant, (long)LeftoverTtl.TotalSeconds,
        };
        AssembledFile[] files = [assembled.Output, assembled.Errors];
        foreach (var file in files) keys.Add(RedisKeys.File(file.FileId));
        foreach (var file in files)
        {
            var present = file.Lines > 0;
            args.AddRange([present ? file.FileId : "", file.Lines, file.Bytes, LinePart.FormatAll(file.Parts), file.Parts.Sum(p => p.Segments),
                file.Filename, FilePurposes.BatchOutput, file.ExpiresAt is { } expires ? expires : ""]);
        }
        var taken = files.SelectMany(f => f.Parts).Select(p => p.Prefix).ToHashSet(StringComparer.Ordinal);
        var unused = assembled.Runs.Select(r => r.Prefix).Where(p => !taken.Contains(p)).ToList();
        var staged = files.SelectMany(f => f.StagedPrefixes).ToList();
        args.Add(unused.Count);
        args.AddRange(unused.Select(p => (RedisValue)p));
        args.AddRange(staged.Select(p => (RedisValue)p));

        var reply = (RedisResult[])(await Db.ScriptEvaluateAsync(Scripts.Commit, [.. keys], [.. args]))!;
        var won = (string)reply[0]! == "won";
        if (won)
        {
            assembled.Committed = true;
            // Listed by the commit: a failure here leaves them to the sweep.
            try
            {
                await deletions.DeleteAsync(unused);
            }
            catch (Exception e) when (e is BlobStoreUnavailableException or IOException or RedisException)
            {
            }
        }
        return new CommitOutcome(won, (string?)reply[1],
            won && assembled.Output.Lines > 0 ? assembled.Output.FileId : null,
            won && assembled.Errors.Lines > 0 ? assembled.Errors.FileId : null);
    }

    /// <summary>How long the results hash and failure bitmap of an ended job stay (a straggling pass may still write to them).</summary>
    private static readonly TimeSpan LeftoverTtl = TimeSpan.FromHours(1);

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
            -- The pass that completes the chunk keeps its result runs: recorded, and no longer listed for the sweep.
            if ARGV[14] ~= '' then redis.call('HSET', KEYS[1], '{{ChunkFields.OutputRun}}', ARGV[14]) end
            if ARGV[15] ~= '' then redis.call('HSET', KEYS[1], '{{ChunkFields.ErrorRun}}', ARGV[15]) end
            if ARGV[17] ~= '' then redis.call('ZREM', KEYS[5], ARGV[17]) end
            if ARGV[18] ~= '' then redis.call('ZREM', KEYS[5], ARGV[18]) end
            -- Nothing reads the chunk's files at the provider again (a retry is a new chunk with a new upload): they are
            -- listed for deletion in this same step, so a crash right after it cannot leave them there.
            local reply = {'completed', successor}
            if ARGV[16] == '1' then
              for _, field in ipairs({'{{ChunkFields.ProviderFileId}}', '{{ChunkPollFields.ProviderOutputFileId}}', '{{ChunkPollFields.ProviderErrorFileId}}'}) do
                local id = redis.call('HGET', KEYS[1], field)
                if id and id ~= '' then
                  redis.call('ZADD', KEYS[4], now, id)
                  reply[#reply + 1] = id
                end
              end
            end
            return reply
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
            local at = 1
            local function arg() local v = ARGV[at]; at = at + 1; return v end
            local jobId, status, stampField = arg(), arg(), arg()
            local completed, failed = arg(), arg()
            local inputTokens, cachedTokens, outputTokens, reasoningTokens = arg(), arg(), arg(), arg()
            local costBatch, costStandard, tenant, leftoverTtl = arg(), arg(), arg(), tonumber(arg())
            local files = {}
            for f = 1, 2 do
              local spec = { hash = KEYS[9 + f] }
              spec.id, spec.lines, spec.bytes, spec.parts, spec.segments = arg(), arg(), arg(), arg(), arg()
              spec.filename, spec.purpose, spec.expires = arg(), arg(), arg()
              files[f] = spec
            end
            local unusedCount = tonumber(arg())

            local s = redis.call('HGET', KEYS[1], '{{JobFields.Status}}')
            if not s then return {'missing', ''} end
            if terminal(s) then
              redis.call('ZREM', KEYS[2], jobId)
              return {'lost', s}
            end

            local seconds = math.floor(now / 1000)
            for f = 1, 2 do
              local spec = files[f]
              if spec.id ~= '' then
                local seq = redis.call('INCR', KEYS[3])
                redis.call('HSET', spec.hash, '{{FileFields.Tenant}}', tenant, '{{FileFields.Filename}}', spec.filename,
                  '{{FileFields.Purpose}}', spec.purpose, '{{FileFields.Bytes}}', spec.bytes, '{{FileFields.CreatedAt}}', seconds,
                  '{{FileFields.Lines}}', spec.lines, '{{FileFields.Segments}}', spec.segments, '{{FileFields.Parts}}', spec.parts,
                  '{{FileFields.Sequence}}', seq)
                if spec.expires ~= '' then
                  redis.call('HSET', spec.hash, '{{FileFields.ExpiresAt}}', spec.expires)
                  redis.call('ZADD', KEYS[5], spec.expires, spec.id)
                end
                redis.call('ZADD', KEYS[4], seq, spec.id)
                redis.call('HINCRBY', KEYS[9], '{{TenantUsage.StoredBytes}}', spec.bytes)
                redis.call('HINCRBY', KEYS[9], '{{TenantUsage.Files}}', 1)
              end
            end
            -- The job's work is no longer open (counted when it was created validating).
            redis.call('HINCRBY', KEYS[9], '{{TenantUsage.OpenBatches}}', -1)
            redis.call('HINCRBY', KEYS[9], '{{TenantUsage.PendingRequests}}', -tonumber(redis.call('HGET', KEYS[1], '{{JobFields.RequestTotal}}') or '0'))

            redis.call('HSET', KEYS[1], '{{JobFields.Status}}', status,
              '{{JobFields.RequestCompleted}}', completed, '{{JobFields.RequestFailed}}', failed,
              '{{JobFields.InputTokens}}', inputTokens, '{{JobFields.CachedTokens}}', cachedTokens,
              '{{JobFields.OutputTokens}}', outputTokens, '{{JobFields.ReasoningTokens}}', reasoningTokens)
            redis.call('HSETNX', KEYS[1], '{{JobFields.FinalizingAt}}', seconds)
            redis.call('HSETNX', KEYS[1], stampField, seconds)
            if files[1].id ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.OutputFileId}}', files[1].id) end
            if files[2].id ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.ErrorFileId}}', files[2].id) end
            if costBatch ~= '' then redis.call('HSET', KEYS[1], '{{JobFields.CostBatchUsd}}', costBatch, '{{JobFields.CostStandardUsd}}', costStandard) end
            redis.call('ZREM', KEYS[2], jobId)

            -- Runs no file took are deleted (listed here, so a crash cannot leave them); the staged parts now belong
            -- to the files, off the sweep's list. An empty file's staged parts (none) and the runs of both are covered.
            for i = 1, unusedCount do redis.call('ZADD', KEYS[6], now, arg()) end
            while at <= #ARGV do redis.call('ZREM', KEYS[6], arg()) end
            redis.call('EXPIRE', KEYS[7], leftoverTtl)
            redis.call('EXPIRE', KEYS[8], leftoverTtl)
            return {'won', status}
            """;
    }
}

/// <param name="CompletedNow">False when an earlier call had already completed the chunk.</param>
/// <param name="SuccessorChunkId">The chunk carrying this chunk's retryable requests, created now or before.</param>
/// <param name="ProviderFilesToDelete">The chunk's provider files this call listed for deletion (none unless it completed the chunk).</param>
public sealed record CompleteChunkOutcome(bool CompletedNow, string? SuccessorChunkId, IReadOnlyList<string> ProviderFilesToDelete);

/// <summary>What the job ends with.</summary>
public sealed record JobCompletion(string Status, TokenUsage Usage, JobCost? Cost);

/// <param name="Won">True when this commit ended the job; false when it was already terminal (<paramref name="Status"/>).</param>
/// <param name="OutputFileId">The output file created by this commit (null when there were no successes, or it lost).</param>
/// <param name="ErrorFileId">The error file created by this commit (null when there were no failures, or it lost).</param>
public sealed record CommitOutcome(bool Won, string? Status, string? OutputFileId = null, string? ErrorFileId = null);
