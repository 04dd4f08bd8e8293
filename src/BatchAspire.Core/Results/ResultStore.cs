using System.Buffers.Binary;
using System.Globalization;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
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
    private static readonly RedisScript StoreFinalsScript = RedisScript.Load("results/store_finals");
    private static readonly RedisScript CompleteChunkScript = RedisScript.Load("results/complete_chunk");
    private static readonly RedisScript BeginFinalizingScript = RedisScript.Load("results/begin_finalizing");
    private static readonly RedisScript StartExpiryScript = RedisScript.Load("results/start_expiry");
    private static readonly RedisScript CommitScript = RedisScript.Load("results/commit");
    private static readonly RedisScript ShowLifeScript = RedisScript.Load("results/show_life");

    // The job's chunk counters are the chunks' own records: read through ChunkStore, which runs the chunk scripts.
    private readonly ChunkStore _chunks = new(redis);

    // Finished chunks waiting for their results, scored by when they last showed life (poll/complete lists them).
    private readonly DueSet _finished = new(redis, RedisKeys.FinishedChunks);

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
        return (long)await StoreFinalsScript.EvaluateAsync(Db, [RedisKeys.JobResults(jobId), RedisKeys.JobFailures(jobId)], args);
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
        bool deleteProviderFiles = false, SuccessorPlacement? placement = null, EndedRequests ended = default)
    {
        var jobId = ChunkIds.JobOf(chunkId);
        var db = Db;
        RedisValue kind = successor switch { SuccessorKind.Retry => "retry", SuccessorKind.Capacity => "capacity", _ => "" };
        var packed = successor == SuccessorKind.None ? [] : ChunkStore.PackLines(successorLines);
        while (true)
        {
            // The successor is chunk n, n the chunk list's length: its keys go in KEYS, so the script checks that the
            // list still has that length and says 'moved' if another chunk of the job was appended meanwhile.
            var number = successor == SuccessorKind.None ? 0 : (int)await db.ListLengthAsync(RedisKeys.JobChunks(jobId));
            var successorId = ChunkIds.Create(jobId, number);
            RedisKey[] keys = [RedisKeys.Chunk(chunkId), RedisKeys.JobChunks(jobId), RedisKeys.DelayedChunks, RedisKeys.ProviderFilesToDelete,
                RedisKeys.BlobsToDelete, RedisKeys.JobChunkStats(jobId), RedisKeys.JobPartialOutput(jobId), RedisKeys.FinishedChunks,
                .. successor == SuccessorKind.None ? [] : new[] { RedisKeys.Chunk(successorId), RedisKeys.ChunkLines(successorId) }];
            var reply = (RedisResult[])(await CompleteChunkScript.EvaluateAsync(db, keys,
                jobId, kind, successorAttempt, packed, successorLines.Count, number, (long)capacityDelay.TotalMilliseconds, chunkId,
                lineUsage.InputTokens, lineUsage.CachedTokens, lineUsage.OutputTokens, lineUsage.ReasoningTokens,
                output?.Format() ?? "", error?.Format() ?? "", deleteProviderFiles ? 1 : 0,
                output?.Prefix ?? "", error?.Prefix ?? "", placement?.Provider ?? "", placement?.ProviderTry ?? 0,
                ended.Completed, ended.Failed))!;
            var state = (string)reply[0]!;
            if (state == "moved") continue;
            var created = (string?)reply[1];
            return new CompleteChunkOutcome(state == "completed", string.IsNullOrEmpty(created) ? null : created,
                [.. reply.Skip(2).Select(id => (string)id!)]);
        }
    }

    /// <summary>
    /// A results pass over the finished chunk is under way: its time in <c>ba:chunks:finished</c> becomes now (Redis
    /// time), if it is listed. False when it is not (its results are stored, or it was never listed).
    /// </summary>
    public async Task<bool> ShowLifeAsync(string chunkId) =>
        (long)await ShowLifeScript.EvaluateAsync(Db, [RedisKeys.FinishedChunks], chunkId) == 1;

    /// <summary>
    /// Claims up to <paramref name="max"/> finished chunks that have shown no life for <paramref name="quietFor"/>
    /// (no results pass started or worked on them since the poller announced them): the claim counts as their life
    /// now, so among several replicas one takes each, and one still quiet comes back after another
    /// <paramref name="quietFor"/>.
    /// </summary>
    public async Task<IReadOnlyList<string>> ClaimQuietFinishedChunksAsync(int max, TimeSpan quietFor) =>
        [.. (await _finished.ClaimAsync(max, TimeSpan.Zero, quietFor: quietFor)).Members.Select(m => m.Id)];

    /// <summary>Takes a chunk off the finished chunks waiting for results (its job ended, or the chunk is gone).</summary>
    public Task<bool> ForgetFinishedChunkAsync(string chunkId) => _finished.RemoveAsync(chunkId);

    /// <summary>A writer for one result run of the job (see <see cref="ResultRunWriter"/>).</summary>
    public ResultRunWriter CreateRunWriter(string jobId, string runId, RunKind kind) => new(blobs, deletions, jobId, runId, kind);

    public Task<long> CountAsync(string jobId) => Db.HashLengthAsync(RedisKeys.JobResults(jobId));

    /// <summary>Moves a running job to <c>finalizing</c> (once) while its files are written.</summary>
    public Task BeginFinalizingAsync(string jobId) =>
        BeginFinalizingScript.EvaluateAsync(Db, [RedisKeys.Job(jobId)]);

    /// <summary>Marks a job past its completion window (<c>expiring_at</c>, once). False when the job is terminal or gone.</summary>
    public async Task<bool> StartExpiryAsync(string jobId) =>
        (long)await StartExpiryScript.EvaluateAsync(Db, [RedisKeys.Job(jobId), RedisKeys.OpenJobs], jobId) == 1;

    /// <summary>Open jobs created at or before <paramref name="createdBefore"/>, oldest first.</summary>
    public async Task<IReadOnlyList<string>> OpenJobsCreatedBeforeAsync(DateTimeOffset createdBefore, int max)
    {
        var ids = await Db.SortedSetRangeByScoreAsync(RedisKeys.OpenJobs, double.NegativeInfinity,
            createdBefore.ToUnixTimeMilliseconds(), take: max);
        return [.. ids.Select(v => (string)v!)];
    }

    public Task<bool> ForgetOpenJobAsync(string jobId) => Db.SortedSetRemoveAsync(RedisKeys.OpenJobs, jobId);

    /// <summary>
    /// The usage of every chunk of the job: the provider's batch usage where it reported one, else the sum over the
    /// chunk's lines. Once every chunk is done, the job's chunk counters hold it (one read); a job ended before that (a
    /// forced expiry) sums its chunks, once.
    /// </summary>
    public async Task<TokenUsage> SumUsageAsync(string jobId)
    {
        if (await _chunks.ReadStatsAsync(jobId) is { AllDone: true } stats) return stats.DoneUsage;
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
        if (!JobStatus.IsTerminal(completion.Status))
            throw new ArgumentOutOfRangeException(nameof(completion), completion.Status, "Not a terminal status.");
        var args = new List<RedisValue>
        {
            jobId, completion.Status,
            assembled.Output.Lines, assembled.Errors.Lines,
            completion.Usage.InputTokens, completion.Usage.CachedTokens, completion.Usage.OutputTokens, completion.Usage.ReasoningTokens,
            completion.Cost is { } cost ? cost.BatchUsd.ToString("R", CultureInfo.InvariantCulture) : "",
            completion.Cost is { } c ? c.StandardUsd.ToString("R", CultureInfo.InvariantCulture) : "",
            assembled.Request.Tenant, (long)LeftoverTtl.TotalSeconds,
        };
        AssembledFile[] files = [assembled.Output, assembled.Errors];
        foreach (var file in files) keys.Add(RedisKeys.File(file.FileId));
        keys.AddRange([RedisKeys.WebhookEvent(jobId), RedisKeys.WebhooksDue, RedisKeys.JobPartialOutput(jobId)]);
        foreach (var file in files)
        {
            var present = file.Lines > 0;
            args.AddRange([present ? file.FileId : "", file.Lines, file.Bytes, LinePart.FormatAll(file.Parts), file.Parts.Sum(p => p.Segments),
                file.Filename, FilePurposes.BatchOutput, file.ExpiresAt is { } expires ? expires : ""]);
        }
        var taken = files.SelectMany(f => f.Parts).Select(p => p.Prefix).ToHashSet(StringComparer.Ordinal);
        var unused = assembled.Runs.Select(r => r.Prefix).Where(p => !taken.Contains(p)).ToList();
        var staged = files.SelectMany(f => f.StagedPrefixes).ToList();
        args.Add(completion.Ledger is { Count: > 0 } ledger ? ProviderLedger.Format(ledger) : "");
        args.Add(unused.Count);
        args.AddRange(unused.Select(p => (RedisValue)p));
        args.AddRange(staged.Select(p => (RedisValue)p));

        var reply = (RedisResult[])(await CommitScript.EvaluateAsync(Db, [.. keys], [.. args]))!;
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

    private static long Long(RedisValue value) => value.IsNull ? 0 : (long)value;
}

/// <param name="CompletedNow">False when an earlier call had already completed the chunk.</param>
/// <param name="SuccessorChunkId">The chunk carrying this chunk's retryable requests, created now or before.</param>
/// <param name="ProviderFilesToDelete">The chunk's provider files this call listed for deletion (none unless it completed the chunk).</param>
public sealed record CompleteChunkOutcome(bool CompletedNow, string? SuccessorChunkId, IReadOnlyList<string> ProviderFilesToDelete);

/// <summary>What the job ends with.</summary>
/// <summary>How a job ends: status, usage, cost, and for a routed model the cost ledger per provider (null: none kept).</summary>
public sealed record JobCompletion(string Status, TokenUsage Usage, JobCost? Cost, IReadOnlyList<ProviderLedgerEntry>? Ledger = null);

/// <summary>Where a retry chunk goes: a provider of its model's route, pinned, and which try there it is.</summary>
public sealed record SuccessorPlacement(string Provider, int ProviderTry);

/// <summary>The requests a chunk's results ended, answered and failed, for its provider's ledger.</summary>
public readonly record struct EndedRequests(long Completed, long Failed);

/// <param name="Won">True when this commit ended the job; false when it was already terminal (<paramref name="Status"/>).</param>
/// <param name="OutputFileId">The output file created by this commit (null when there were no successes, or it lost).</param>
/// <param name="ErrorFileId">The error file created by this commit (null when there were no failures, or it lost).</param>
public sealed record CommitOutcome(bool Won, string? Status, string? OutputFileId = null, string? ErrorFileId = null);
