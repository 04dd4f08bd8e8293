using StackExchange.Redis;

namespace BatchAspire.Core.Redis;

/// <summary>
/// The one place that builds Redis keys (docs/architecture.md, "Redis data model").
/// Keys of one job carry the hash tag <c>{jobId}</c> so scripts and transactions can touch them together.
/// </summary>
public static class RedisKeys
{
    public static readonly RedisKey Sequence = "ba:seq";

    public static RedisKey File(string fileId) => $"ba:file:{fileId}";
    public static RedisKey TenantFiles(string tenant) => $"ba:tenant:{tenant}:files";
    /// <summary>The tenant's usage counters (Tenants.TenantUsage): stored bytes and files, open batches, pending requests.</summary>
    public static RedisKey TenantUsage(string tenant) => $"ba:tenant:{tenant}:usage";
    /// <summary>Every file that expires, scored by its <c>expires_at</c> (unix seconds): what the expired-file sweeper deletes.</summary>
    public static readonly RedisKey ExpiringFiles = "ba:files:expiring";

    public static RedisKey Job(string jobId) => $"ba:{{{jobId}}}:job";
    public static RedisKey TenantBatches(string tenant) => $"ba:tenant:{tenant}:batches";
    public static readonly RedisKey ValidatingJobs = "ba:jobs:validating";
    /// <summary>Jobs a user cancelled that are not <c>cancelled</c> yet, by when their cancel was last sent (unix ms).</summary>
    public static readonly RedisKey CancellingJobs = "ba:jobs:cancelling";

    public static RedisKey JobChunks(string jobId) => $"ba:{{{jobId}}}:chunks";
    public static RedisKey Chunk(string chunkId) => $"ba:{{{ChunkIds.JobOf(chunkId)}}}:chunk:{ChunkIds.NumberOf(chunkId)}";
    public static RedisKey ChunkLines(string chunkId) => $"ba:{{{ChunkIds.JobOf(chunkId)}}}:chunk:{ChunkIds.NumberOf(chunkId)}:lines";
    /// <summary>The job's chunk counters (ChunkStatsFields): chunks, chunks whose results are stored, and their usage.</summary>
    public static RedisKey JobChunkStats(string jobId) => $"ba:{{{jobId}}}:chunkstats";

    public static readonly RedisKey PollDue = "ba:poll:due";
    public static readonly RedisKey PollFence = "ba:poll:fence";

    /// <summary>The job's webhook event (WebhookEventFields), recorded when the job ends, until every endpoint has it.</summary>
    public static RedisKey WebhookEvent(string jobId) => $"ba:{{{jobId}}}:event";
    /// <summary>Job ids whose webhook event is to be delivered, by when (unix ms); claimed with a lease (DueSet).</summary>
    public static readonly RedisKey WebhooksDue = "ba:webhooks:due";
    /// <summary>Job ids whose webhook event was dead-lettered, by when (unix ms).</summary>
    public static readonly RedisKey WebhooksDead = "ba:webhooks:dead";

    // The job's partial output: chunk ids in the order their finals were stored, then 'end' (lib/partial.lua).
    public static RedisKey JobPartialOutput(string jobId) => $"ba:{{{jobId}}}:partial";

    public static RedisKey JobResults(string jobId) => $"ba:{{{jobId}}}:results";

    // Blob prefixes (LinePart) whose blobs are to be deleted, scored by when (unix ms). A writer lists its prefix
    // here, due after a bound, before it writes; the script that records the blobs takes it out again. So blobs of a
    // writer that died, and of a file or run that was deleted or superseded, are found without listing the store.
    public static readonly RedisKey BlobsToDelete = "ba:blobs:delete";

    // Appended by the pipeline (submitter and results).
    // Chunks waiting to be (re)submitted later: capacity refusals, failed uploads, a submitter's watchdog.
    // Scored by the due time (unix ms); a claim moves the score to a lease expiry, like ba:poll:due.
    public static readonly RedisKey DelayedChunks = "ba:chunks:delayed";

    // Chunks whose provider batch ended (the poller announced ChunkFinished) and whose results are not stored yet, scored
    // by when they last showed life (unix ms): the announcement, then a results pass starting and working. A chunk quiet
    // for a bound lost its ChunkFinished, and results announces it again (claimed with DueSet).
    public static readonly RedisKey FinishedChunks = "ba:chunks:finished";

    // Files at the provider that nothing needs any more (a chunk's input, output and error files once its results are
    // stored), scored by when to try deleting them next (unix ms); an entry leaves once the provider confirms.
    public static readonly RedisKey ProviderFilesToDelete = "ba:provider:files:delete";

    // Planned jobs that are not terminal yet, scored by created_at (unix ms): the results service finds
    // jobs past their completion window here without scanning.
    public static readonly RedisKey OpenJobs = "ba:jobs:open";

    // A result run (final result lines of one chunk in ascending line order, as one results pass wrote them) lives in
    // the blob store (LinePart under BlobPrefixes.ResultRun); its chunk hash records it once the pass completes.

    // Bitmap over the job's 0-based line indexes: bit i is 1 when the final result of line i is a failure
    // (goes to the error file). BITCOUNT gives request_counts.failed without reading any result.
    public static RedisKey JobFailures(string jobId) => $"ba:{{{jobId}}}:failures";
}

/// <summary>A chunk id is <c>{jobId}.{n}</c>, so any service can find the job from it.</summary>
public static class ChunkIds
{
    public static string Create(string jobId, int number) => $"{jobId}.{number}";

    public static string JobOf(string chunkId) => chunkId[..chunkId.LastIndexOf('.')];

    public static int NumberOf(string chunkId) => int.Parse(chunkId.AsSpan(chunkId.LastIndexOf('.') + 1));
}
