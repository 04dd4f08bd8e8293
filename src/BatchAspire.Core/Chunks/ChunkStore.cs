using System.Buffers.Binary;
using System.Globalization;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Chunks;

/// <summary>
/// The job's chunks in Redis (<c>ba:{jobId}:chunks</c>, <c>ba:{jobId}:chunk:{n}</c>, <c>:lines</c>, the counters
/// <c>ba:{jobId}:chunkstats</c>) and the delayed-chunk schedule (<c>ba:chunks:delayed</c>). Every change is one script
/// under <c>Redis/Lua/chunks/</c> writing through <c>lib/chunk.lua</c>, so concurrent or redelivered messages cannot
/// interleave a read and a write (no check-then-insert). Scripts read the clock with Redis <c>TIME</c>, so services
/// with skewed clocks agree on leases and due times.
/// </summary>
public sealed class ChunkStore(IConnectionMultiplexer redis)
{
    private static readonly RedisScript PlanScript = RedisScript.Load("chunks/plan");
    private static readonly RedisScript TakeLeaseScript = RedisScript.Load("chunks/take_lease");
    private static readonly RedisScript RenewLeaseScript = RedisScript.Load("chunks/renew_lease");
    private static readonly RedisScript ReleaseLeaseScript = RedisScript.Load("chunks/release_lease");
    private static readonly RedisScript BeginCreateScript = RedisScript.Load("chunks/begin_create");
    private static readonly RedisScript RecordScript = RedisScript.Load("chunks/record_submission");
    private static readonly RedisScript CloseScript = RedisScript.Load("chunks/close");
    private static readonly RedisScript DelayScript = RedisScript.Load("chunks/delay");
    private static readonly RedisScript RecountScript = RedisScript.Load("chunks/recount");
    private static readonly RedisValue[] StatsFields =
    [
        ChunkStatsFields.Chunks, ChunkStatsFields.Done, ChunkStatsFields.InputTokens, ChunkStatsFields.CachedTokens,
        ChunkStatsFields.OutputTokens, ChunkStatsFields.ReasoningTokens,
    ];

    private readonly DueSet _delayed = new(redis, RedisKeys.DelayedChunks);

    private IDatabase Db => redis.GetDatabase();

    /// <summary>
    /// Stores the job's plan once: chunk hashes (attempt 1), the chunk list, the chunk counters, <c>request_total</c>
    /// (if absent), the job's entry in <c>ba:jobs:open</c>, and takes it out of <c>ba:jobs:validating</c>. A job that
    /// already has a plan keeps it (the call only repeats the bookkeeping); a job that is gone or terminal gets none.
    /// </summary>
    public async Task<PlanOutcome> PlanAsync(string jobId, long totalLines, IReadOnlyList<PlannedChunk> plan)
    {
        var keys = new RedisKey[5 + plan.Count];
        (keys[0], keys[1], keys[2], keys[3], keys[4]) =
            (RedisKeys.Job(jobId), RedisKeys.JobChunks(jobId), RedisKeys.ValidatingJobs, RedisKeys.OpenJobs, RedisKeys.JobChunkStats(jobId));
        var args = new RedisValue[3 + plan.Count * 2];
        (args[0], args[1], args[2]) = (jobId, totalLines, ChunkKinds.Range);
        for (var n = 0; n < plan.Count; n++)
        {
            keys[5 + n] = RedisKeys.Chunk(ChunkIds.Create(jobId, n));
            args[3 + n * 2] = plan[n].First;
            args[4 + n * 2] = plan[n].Count;
        }
        var reply = (RedisResult[])(await PlanScript.EvaluateAsync(Db, keys, args))!;
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
        var reply = (RedisResult[])(await TakeLeaseScript.EvaluateAsync(Db,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId)), RedisKeys.DelayedChunks],
            token, (long)lease.TotalMilliseconds, chunkId))!;
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
        (long)await RenewLeaseScript.EvaluateAsync(Db, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            token, (long)lease.TotalMilliseconds, chunkId) == 1;

    /// <summary>Gives the lease back (the watchdog entry stays unless <paramref name="unschedule"/>).</summary>
    public async Task ReleaseSubmitLeaseAsync(string chunkId, string token, bool unschedule) =>
        await ReleaseLeaseScript.EvaluateAsync(Db, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            token, unschedule ? 1 : 0, chunkId);

    /// <summary>
    /// The point of no return before a create: checks the lease and the job once more, records the uploaded file,
    /// and stamps <c>create_started_at_ms</c> (kept from the first create), so whoever comes next looks up by
    /// metadata before creating. <paramref name="provider"/> (a routed provider's name; null for the default one) is
    /// recorded with the first create and kept: the chunk's batch lives there.
    /// </summary>
    public async Task<BeginCreateOutcome> BeginCreateAsync(string chunkId, string token, string providerFileId, string? provider = null)
    {
        var reply = (RedisResult[])(await BeginCreateScript.EvaluateAsync(Db,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId))], token, providerFileId, provider ?? ""))!;
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
        var reply = (RedisResult[])(await RecordScript.EvaluateAsync(Db,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId)), RedisKeys.DelayedChunks],
            providerBatchId, providerFileId, providerStatus, chunkId))!;
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
        var reply = (RedisResult[])(await CloseScript.EvaluateAsync(Db,
            [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks], reason, status, chunkId))!;
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
        var ms = (long)await DelayScript.EvaluateAsync(Db, [RedisKeys.Chunk(chunkId), RedisKeys.DelayedChunks],
            chunkId, (long)delay.TotalMilliseconds, (long)maxDelay.TotalMilliseconds, countRefusal ? 1 : 0);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Takes up to <paramref name="max"/> due delayed chunks; each stays hidden for <paramref name="lease"/> (then is due again unless handled).</summary>
    public async Task<IReadOnlyList<string>> ClaimDelayedAsync(int max, TimeSpan lease)
    {
        var claim = await _delayed.ClaimAsync(max, lease);
        return [.. claim.Members.Select(m => m.Id)];
    }

    public Task<bool> UndelayAsync(string chunkId) => _delayed.RemoveAsync(chunkId);

    public async Task<double?> DelayedDueAsync(string chunkId) => await Db.SortedSetScoreAsync(RedisKeys.DelayedChunks, chunkId);

    /// <summary>
    /// True when every chunk of the job has had its results stored (or the job has no chunks yet: false). One read of
    /// the job's chunk counters, however many chunks it has.
    /// </summary>
    public async Task<bool> AllResultsDoneAsync(string jobId) => (await ReadStatsAsync(jobId)).AllDone;

    /// <summary>
    /// The job's chunk counters (<c>ba:{jobId}:chunkstats</c>), which the chunk scripts keep as they create chunks and
    /// close their results, so finalizing costs one read per message instead of one per chunk. A job planned before
    /// the counters existed has none: they are counted from its chunk list once (<c>chunks/recount.lua</c>), and kept
    /// from then on.
    /// </summary>
    public async Task<ChunkStats> ReadStatsAsync(string jobId)
    {
        var db = Db;
        var key = RedisKeys.JobChunkStats(jobId);
        var values = await db.HashGetAsync(key, StatsFields);
        // A planned job has its counters, a job not planned yet has no chunk list; only a job planned by an older
        // version has a list and no counters.
        while (values[0].IsNull)
        {
            var ids = await db.ListRangeAsync(RedisKeys.JobChunks(jobId));
            if (ids.Length == 0) return new ChunkStats(0, 0, default);
            RedisKey[] keys = [key, RedisKeys.JobChunks(jobId), .. ids.Select(id => RedisKeys.Chunk((string)id!))];
            await RecountScript.EvaluateAsync(db, keys);
            values = await db.HashGetAsync(key, StatsFields);
        }
        return new ChunkStats(Long(values[0]), Long(values[1]),
            new TokenUsage(Long(values[2]), Long(values[3]), Long(values[4]), Long(values[5])));
    }

    /// <summary>
    /// The job's cost ledger as its chunk counters hold it: per provider its chunks ran at, the requests whose final
    /// result came from it and the usage of its done chunks (lib/chunkstats.lua). Empty for a job planned before the
    /// ledger existed.
    /// </summary>
    public async Task<IReadOnlyList<ProviderLedgerEntry>> ReadLedgerAsync(string jobId)
    {
        var entries = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var field in await Db.HashGetAllAsync(RedisKeys.JobChunkStats(jobId)))
        {
            var name = (string)field.Name!;
            if (!name.StartsWith(ChunkStatsFields.LedgerPrefix, StringComparison.Ordinal)) continue;
            var split = name.LastIndexOf(':');
            var provider = name[ChunkStatsFields.LedgerPrefix.Length..split];
            var slot = name[(split + 1)..] switch
            {
                ChunkStatsFields.LedgerCompleted => 0,
                ChunkStatsFields.LedgerFailed => 1,
                ChunkStatsFields.InputTokens => 2,
                ChunkStatsFields.CachedTokens => 3,
                ChunkStatsFields.OutputTokens => 4,
                ChunkStatsFields.ReasoningTokens => 5,
                _ => -1,
            };
            if (slot < 0) continue;
            if (!entries.TryGetValue(provider, out var values)) entries[provider] = values = new long[6];
            values[slot] = (long)field.Value;
        }
        return [.. entries.Select(e => new ProviderLedgerEntry(e.Key.Length == 0 ? ProviderLedger.DefaultProvider : e.Key, e.Value[0], e.Value[1],
            new TokenUsage(e.Value[2], e.Value[3], e.Value[4], e.Value[5])))];
    }

    /// <summary>
    /// Which provider each request of the job was last sent to, and so, once the job has ended, which provider its final
    /// result came from: a request is carried by one chunk at a time, each retry chunk is appended after the chunk it
    /// carries on and names the provider it went to, so the last chunk in the list carrying a line is the one that
    /// ended it. Reads the chunk records and retry line lists (already kept for assembly); holds one byte per request.
    /// </summary>
    public async Task<LineProviders> ReadLineProvidersAsync(string jobId, long totalLines)
    {
        var names = new List<string>();
        var byLine = new byte[totalLines];
        foreach (var id in await ListAsync(jobId))
        {
            if (await GetAsync(id) is not { } chunk) continue;
            var name = chunk.Provider ?? ProviderLedger.DefaultProvider;
            var slot = names.IndexOf(name);
            if (slot < 0)
            {
                if (names.Count == byte.MaxValue) throw new InvalidOperationException($"Job {jobId} ran at more than {byte.MaxValue} providers.");
                names.Add(name);
                slot = names.Count - 1;
            }
            foreach (var line in await ReadLineIndexesAsync(chunk))
                if (line < totalLines) byLine[line] = (byte)(slot + 1);
        }
        return new LineProviders(names, byLine);
    }

    private static long Long(RedisValue value) => value.IsNull ? 0 : (long)value;

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
