using BatchAspire.Core.Jobs;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Redis;
using System.Text.Json;
using StackExchange.Redis;

namespace BatchAspire.Core.Polling;

/// <summary>
/// The chunk poll schedule: <c>ba:poll:due</c> (chunk id scored by its next due time, unix ms) with leases and
/// fencing tokens. A claim (<see cref="DueSet"/>) moves the due chunks' scores to the lease expiry; each then gets a
/// fresh token from <c>ba:poll:fence</c> (<c>Redis/Lua/poll/fence.lua</c>), stored in the chunk's <c>fence</c> field;
/// every later write for that chunk checks the token in the same script, so a replica that was paused past its lease
/// cannot overwrite newer state.
/// Every script reads the clock with Redis <c>TIME</c>, so replicas with skewed clocks still agree on "due".
/// </summary>
/// <remarks>
/// The scripts touch <c>ba:poll:due</c> and the chunk's and job's keys together, so the schedule needs a
/// single Redis node (or one cluster slot): the deployment BatchAspire uses.
/// </remarks>
public sealed class PollSchedule(IConnectionMultiplexer redis)
{
    private static readonly RedisScript ScheduleScript = RedisScript.Load("poll/schedule");
    private static readonly RedisScript FenceScript = RedisScript.Load("poll/fence");
    private static readonly RedisScript ApplyScript = RedisScript.Load("poll/apply");
    private static readonly RedisScript DeferScript = RedisScript.Load("poll/defer");
    private static readonly RedisScript CompleteScript = RedisScript.Load("poll/complete");

    private readonly DueSet _due = new(redis, RedisKeys.PollDue);
    private readonly PollNotices _notices = new(redis);

    /// <summary>
    /// Schedules a chunk's first poll at <paramref name="dueAt"/> (the submitter calls it once the provider batch
    /// id is recorded in the chunk hash). Idempotent: a chunk already scheduled or leased keeps its due time and
    /// lease, and a chunk whose polling finished is not scheduled again. Returns true if this call added it; a chunk
    /// added is announced to idle pollers (<see cref="PollNotices"/>, a hint: the schedule is the truth).
    /// </summary>
    public async Task<bool> ScheduleAsync(string chunkId, DateTimeOffset dueAt)
    {
        var added = (long)await ScheduleScript.EvaluateAsync(Database, [RedisKeys.Chunk(chunkId), RedisKeys.PollDue],
            chunkId, dueAt.ToUnixTimeMilliseconds()).ConfigureAwait(false) == 1;
        if (added) _notices.Scheduled(chunkId);
        return added;
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> due chunks, leases them for <paramref name="lease"/> (the one lease claim,
    /// <see cref="DueSet"/>) and fences each. Concurrent claimers never receive the same due chunk, and a claimer that
    /// stalled past its lease fences nothing another has claimed since. A scheduled chunk whose hash is gone (the
    /// job's keys expired) is dropped from the schedule.
    /// </summary>
    public async Task<PollClaimBatch> ClaimAsync(int max, TimeSpan lease)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var leaseMs = (long)lease.TotalMilliseconds;
        var due = await _due.ClaimAsync(max, lease).ConfigureAwait(false);
        var leaseUntil = due.NowMs + leaseMs;
        // Fenced all at once: StackExchange.Redis pipelines the scripts on one connection, so a claim of k chunks costs
        // one round trip for the claim and about one for the fences, not k + 1.
        var fenced = await Task.WhenAll(due.Members.Select(member => FenceAsync(member, due.NowMs, leaseUntil))).ConfigureAwait(false);
        List<PollClaim> claims = [.. fenced.OfType<PollClaim>()];
        return new PollClaimBatch(claims, due.NowMs, due.NextDueMs);
    }

    private async Task<PollClaim?> FenceAsync(DueMember member, long now, long leaseUntil)
    {
        var chunkId = member.Id;
        var reply = await FenceScript.EvaluateAsync(Database,
            [RedisKeys.Chunk(chunkId), RedisKeys.Job(ChunkIds.JobOf(chunkId)), RedisKeys.PollFence, RedisKeys.PollDue],
            chunkId, leaseUntil).ConfigureAwait(false);
        if (reply.IsNull) return null;
        var c = (RedisResult[])reply!;
        return new PollClaim
        {
            ChunkId = chunkId,
            DueAtMs = member.DueAtMs,
            Fence = (long)c[0],
            ClaimedAtMs = now,
            LeaseUntilMs = leaseUntil,
            ProviderBatchId = (string?)c[1],
            PreviousStatus = (string?)c[2],
            PreviousInterval = c[3].IsNull ? null : TimeSpan.FromMilliseconds((long)c[3]),
            TraceParent = (string?)c[7],
            PreviousDone = c[4].IsNull && c[5].IsNull ? null
                : (c[4].IsNull ? 0 : (long)c[4]) + (c[5].IsNull ? 0 : (long)c[5]),
            PreviousPolledAtMs = c[6].IsNull ? null : (long)c[6],
            SubmittedAtMs = c.Length > 8 && !c[8].IsNull ? (long)c[8] : null,
            Provider = c.Length > 9 && !c[9].IsNull ? (string?)c[9] : null,
        };
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
        var applied = await ApplyScript.EvaluateAsync(Database,
            [RedisKeys.Chunk(claim.ChunkId), RedisKeys.Job(claim.JobId), RedisKeys.PollDue, RedisKeys.JobChunkStats(claim.JobId)],
            claim.ChunkId, claim.Fence, batch.Status,
            batch.RequestCounts.Total, batch.RequestCounts.Completed, batch.RequestCounts.Failed,
            usage is null ? 0 : 1, usage?.InputTokens ?? 0, usage?.CachedTokens ?? 0, usage?.OutputTokens ?? 0,
            usage?.ReasoningTokens ?? 0, usage?.TotalTokens ?? 0,
            batch.OutputFileId ?? "", batch.ErrorFileId ?? "",
            batch.Errors.Count == 0 ? "" : JsonSerializer.Serialize(batch.Errors, PollJson.Default.IReadOnlyListProviderBatchError),
            StartsJob(batch.Status) ? 1 : 0, (long)interval.TotalMilliseconds, (long)nextDelay.TotalMilliseconds).ConfigureAwait(false);
        return (long)applied == 1;
    }

    /// <summary>
    /// After a failed provider call: moves the chunk's due time out by the error back-off
    /// (<paramref name="errorBase"/> doubling per failure in a row, capped at <paramref name="errorMax"/>).
    /// Fenced. Returns the delay chosen, or null for a stale token.
    /// </summary>
    public async Task<TimeSpan?> DeferAfterErrorAsync(PollClaim claim, TimeSpan errorBase, TimeSpan errorMax)
    {
        var delay = (long)await DeferScript.EvaluateAsync(Database, [RedisKeys.Chunk(claim.ChunkId), RedisKeys.PollDue],
            claim.ChunkId, claim.Fence, (long)errorBase.TotalMilliseconds, (long)errorMax.TotalMilliseconds).ConfigureAwait(false);
        return delay < 0 ? null : TimeSpan.FromMilliseconds(delay);
    }

    /// <summary>
    /// Removes a terminal chunk from the schedule for good, once its <c>ChunkFinished</c> is published, and lists it in
    /// <c>ba:chunks:finished</c> until its results are stored (results announces it again if it stays quiet there).
    /// Fenced: a stale holder cannot unschedule a chunk that another replica has claimed since.
    /// </summary>
    public async Task<bool> CompleteAsync(PollClaim claim) =>
        (long)await CompleteScript.EvaluateAsync(Database, [RedisKeys.Chunk(claim.ChunkId), RedisKeys.PollDue, RedisKeys.FinishedChunks],
            claim.ChunkId, claim.Fence).ConfigureAwait(false) == 1;

    /// <summary>The provider statuses that mean the batch passed validation, so its job is running.</summary>
    internal static bool StartsJob(string status) =>
        status is JobStatus.InProgress or JobStatus.Finalizing or JobStatus.Completed or JobStatus.Expired;

    private IDatabase Database => redis.GetDatabase();
}
