using System.Buffers.Binary;
using System.Collections;
using System.Runtime.CompilerServices;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Results;

/// <summary>
/// What one read of a job's partial output covers: the entries [<see cref="From"/>, <see cref="Next"/>) of its partial
/// output list (<c>ba:{jobId}:partial</c>), <see cref="Next"/> being the client's next cursor.
/// </summary>
/// <param name="Chunks">The chunks whose final lines this read gives, in list order.</param>
/// <param name="FromFiles">The job has ended: the lines come from its output and error files, less what entries before
/// <see cref="From"/> gave.</param>
/// <param name="Complete">Nothing will follow <see cref="Next"/>.</param>
public sealed record PartialOutputPage(string JobId, long From, long Next, bool Complete, IReadOnlyList<string> Chunks, bool FromFiles);

/// <summary>
/// A job's final lines while it runs (docs/webhooks.md, "Partial results"). When a chunk's results are stored,
/// <c>results/complete_chunk</c> appends the chunk to the job's partial output list in the same step; its final lines
/// are then its result runs and, for lines a provider answered out of order, the results hash, less the lines its
/// successor carries on — each line of the job belongs to exactly one listed chunk, and its bytes are the ones assembly
/// puts in the job's files (a run wins over the hash there too). The index into the list is the cursor: the list only
/// grows, so a cursor means the same on every replica and after restarts. Once the job has ended (<c>results/commit</c>
/// appends <c>end</c>), its runs are gone, and the rest comes from its output and error files, walked in input order.
/// </summary>
public sealed class PartialOutput(IConnectionMultiplexer redis, IBlobStore blobs, IFileStore files)
{
    /// <summary>The end of the list, appended by <c>results/commit</c> (lib/partial.lua).</summary>
    public const string End = "end";

    /// <summary>Chunks per read: a read's size stays bounded by this many chunks' lines.</summary>
    public int MaxChunksPerRead { get; init; } = 16;

    private const int LinesPerRead = 500;

    private readonly LinePartReader _reader = new(blobs);
    private readonly ChunkStore _chunks = new(redis);

    /// <summary>
    /// Plans a read from <paramref name="cursor"/>; null when the cursor is past anything this job's list can reach.
    /// Reads the list before the job's status: a job seen not yet stopping had no chunk stored while stopping. Throws
    /// <see cref="PartialOutputUnavailableException"/> when an ended job's read needs its input file and it is gone.
    /// </summary>
    public async Task<PartialOutputPage?> PlanAsync(string jobId, long cursor, CancellationToken ct = default)
    {
        var db = redis.GetDatabase();
        if (cursor < 0) return null;
        var length = await db.ListLengthAsync(RedisKeys.JobPartialOutput(jobId));
        var entries = cursor < length
            ? (await db.ListRangeAsync(RedisKeys.JobPartialOutput(jobId), cursor, cursor + MaxChunksPerRead - 1)).Select(v => (string)v!).ToList()
            : [];
        var job = await db.HashGetAsync(RedisKeys.Job(jobId), [JobFields.Status, JobFields.ExpiringAt, JobFields.InputFileId]);
        var status = (string?)job[0];
        if (JobStatus.IsTerminal(status))
        {
            // A job that ended without a commit (failed at creation, cancelled before planning) has no 'end': its end is
            // the list's length.
            var end = length > 0 && (string?)await db.ListGetByIndexAsync(RedisKeys.JobPartialOutput(jobId), -1) == End ? length - 1 : length;
            if (cursor > end + 1) return null;
            if (cursor > 0 && cursor <= end && await files.GetAsync(job[2].ToString(), ct) is null)
                throw new PartialOutputUnavailableException(
                    $"The input file of batch {jobId} is gone: read its partial output again from the start, or its output and error files.");
            return new PartialOutputPage(jobId, cursor, end + 1, true, [], cursor <= end);
        }
        if (cursor > length) return null;
        var chunks = entries.TakeWhile(e => e != End).ToList();
        var stopping = status == JobStatus.Cancelling || !job[1].IsNull;
        if (stopping)
        {
            // A chunk stored while its job was stopping leaves requests without a final (they end batch_cancelled or
            // batch_expired at the commit): such a chunk and those after it wait for the end, so no line is given twice.
            var ready = 0;
            foreach (var chunkId in chunks)
            {
                if (!await AllFinalAsync(db, chunkId)) break;
                ready++;
            }
            chunks = chunks[..ready];
        }
        return new PartialOutputPage(jobId, cursor, cursor + chunks.Count, false, chunks, false);
    }

    /// <summary>
    /// The cursor after everything readable now (the batch object's <c>partial_output.cursor</c>): a client whose cursor
    /// is behind it has lines to read, or, for an ended job, the last read to make.
    /// </summary>
    public async Task<long> CursorAsync(string jobId, string status)
    {
        var db = redis.GetDatabase();
        var length = await db.ListLengthAsync(RedisKeys.JobPartialOutput(jobId));
        if (!JobStatus.IsTerminal(status)) return length;
        return length > 0 && (string?)await db.ListGetByIndexAsync(RedisKeys.JobPartialOutput(jobId), -1) == End ? length : length + 1;
    }

    /// <summary>The page's lines, without their '\n'; each line's memory is valid until the next is asked for.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadAsync(PartialOutputPage page, [EnumeratorCancellation] CancellationToken ct)
    {
        if (page.FromFiles)
        {
            await foreach (var line in ReadEndedAsync(page, ct)) yield return line;
            yield break;
        }
        var db = redis.GetDatabase();
        foreach (var chunkId in page.Chunks)
        {
            var lines = await FinalLinesAsync(chunkId) ?? throw new InvalidOperationException($"Chunk {chunkId} is listed but gone.");
            var inRuns = new HashSet<long>();
            foreach (var run in lines.Runs)
            {
                foreach (var index in await ReadRunIndexesAsync(run)) inRuns.Add(index);
                await foreach (var line in _reader.ReadLinesAsync([run.Part], 0, run.Lines, ct: ct)) yield return line.Bytes;
            }
            var rest = lines.Indexes.Where(i => !inRuns.Contains(i)).ToList();
            for (var at = 0; at < rest.Count; at += LinesPerRead)
            {
                ct.ThrowIfCancellationRequested();
                var fields = rest.Skip(at).Take(LinesPerRead).Select(i => (RedisValue)i).ToArray();
                foreach (var value in await db.HashGetAsync(RedisKeys.JobResults(page.JobId), fields))
                {
                    // The plan saw every line final; a line gone since means the job ended and its results expired.
                    if (value.IsNull) throw new InvalidOperationException($"A final line of chunk {chunkId} is gone.");
                    yield return (ReadOnlyMemory<byte>)value;
                }
            }
        }
    }

    /// <summary>
    /// An ended job: the lines of its output and error files that no chunk before the cursor gave, in input order. Both
    /// files are in input order and hold every request once; which file holds line n is told by the custom_id of
    /// input line n.
    /// </summary>
    private async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadEndedAsync(PartialOutputPage page, [EnumeratorCancellation] CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var job = await db.HashGetAsync(RedisKeys.Job(page.JobId), [JobFields.InputFileId, JobFields.OutputFileId, JobFields.ErrorFileId]);
        var output = await OpenAsync((string?)job[1], ct);
        var errors = await OpenAsync((string?)job[2], ct);
        try
        {
            if (page.From == 0)
            {
                // Nothing given yet: both files, whole.
                while (await NextAsync(output)) yield return output!.Current;
                while (await NextAsync(errors)) yield return errors!.Current;
                yield break;
            }
            var given = await GivenAsync(db, page.JobId, page.From);
            var input = await files.GetAsync((string?)job[0] ?? "", ct)
                ?? throw new PartialOutputUnavailableException($"The input file of batch {page.JobId} is gone.");
            bool hasOutput = await NextAsync(output), hasError = await NextAsync(errors);
            long index = 0;
            await foreach (var request in files.ReadLinesAsync(input.Id, 0, input.Lines, ct))
            {
                if (!hasOutput && !hasError) yield break;
                var customId = ResultLine.CustomIdOfRequest(request.Span);
                var inOutput = hasOutput && CustomIdOf(output!.Current) == customId;
                if (!inOutput && !(hasError && CustomIdOf(errors!.Current) == customId))
                    throw new InvalidOperationException($"Line {index} of batch {page.JobId} is in neither of its files.");
                var file = inOutput ? output! : errors!;
                if (index >= given.Length || !given[(int)index]) yield return file.Current;
                if (inOutput) hasOutput = await NextAsync(output);
                else hasError = await NextAsync(errors);
                index++;
            }
        }
        finally
        {
            if (output is not null) await output.DisposeAsync();
            if (errors is not null) await errors.DisposeAsync();
        }
    }

    private async Task<IAsyncEnumerator<ReadOnlyMemory<byte>>?> OpenAsync(string? fileId, CancellationToken ct) =>
        string.IsNullOrEmpty(fileId) || await files.GetAsync(fileId, ct) is not { } file
            ? null
            : files.ReadLinesAsync(fileId, 0, file.Lines, ct).GetAsyncEnumerator(ct);

    private static async Task<bool> NextAsync(IAsyncEnumerator<ReadOnlyMemory<byte>>? lines) => lines is not null && await lines.MoveNextAsync();

    private static string? CustomIdOf(ReadOnlyMemory<byte> line) => ResultLine.TryParse(line.Span, out var info) ? info.CustomId : null;

    /// <summary>The lines the chunks listed before <paramref name="cursor"/> gave.</summary>
    private async Task<BitArray> GivenAsync(IDatabase db, string jobId, long cursor)
    {
        var total = (long?)await db.HashGetAsync(RedisKeys.Job(jobId), JobFields.RequestTotal) ?? 0;
        var given = new BitArray(checked((int)total));
        foreach (var entry in await db.ListRangeAsync(RedisKeys.JobPartialOutput(jobId), 0, cursor - 1))
        {
            if ((string?)entry is not { } chunkId || chunkId == End) continue;
            if (await FinalLinesAsync(chunkId) is not { } lines) continue;
            foreach (var index in lines.Indexes) if (index < total) given[(int)index] = true;
        }
        return given;
    }

    /// <summary>Whether every line the chunk ends has its final (in a run or in the results hash).</summary>
    private async Task<bool> AllFinalAsync(IDatabase db, string chunkId)
    {
        if (await FinalLinesAsync(chunkId) is not { } lines) return false;
        var inRuns = new HashSet<long>();
        foreach (var run in lines.Runs) foreach (var index in await ReadRunIndexesAsync(run)) inRuns.Add(index);
        var rest = lines.Indexes.Where(i => !inRuns.Contains(i)).ToList();
        var resultsKey = RedisKeys.JobResults(ChunkIds.JobOf(chunkId));
        for (var at = 0; at < rest.Count; at += LinesPerRead)
        {
            var batch = db.CreateBatch();
            var checks = rest.Skip(at).Take(LinesPerRead).Select(i => batch.HashExistsAsync(resultsKey, i)).ToList();
            batch.Execute();
            foreach (var check in checks) if (!await check) return false;
        }
        return true;
    }

    /// <summary>
    /// The lines a stored chunk ends (its lines less those its successor carries on, ascending) and its recorded result
    /// runs; null for a chunk gone or not stored.
    /// </summary>
    private async Task<ChunkFinals?> FinalLinesAsync(string chunkId)
    {
        if (await _chunks.GetAsync(chunkId) is not { ResultsDone: true } chunk) return null;
        var lines = await _chunks.ReadLineIndexesAsync(chunk);
        if (chunk[ChunkFields.Successor] is { } successorId && await _chunks.GetAsync(successorId) is { } successor)
        {
            var carried = (await _chunks.ReadLineIndexesAsync(successor)).ToHashSet();
            lines = [.. lines.Where(i => !carried.Contains(i))];
        }
        var runs = new List<ResultRun>(2);
        if (ResultRun.Parse(chunk.JobId, RunKind.Output, chunk[ChunkFields.OutputRun]) is { } output) runs.Add(output);
        if (ResultRun.Parse(chunk.JobId, RunKind.Error, chunk[ChunkFields.ErrorRun]) is { } error) runs.Add(error);
        return new ChunkFinals(lines, runs);
    }

    private async Task<long[]> ReadRunIndexesAsync(ResultRun run)
    {
        await using var stream = await blobs.OpenReadAsync(run.Part.LineIndexesBlob);
        var bytes = new byte[stream.Length];
        await stream.ReadExactlyAsync(bytes);
        var indexes = new long[bytes.Length / 4];
        for (var i = 0; i < indexes.Length; i++) indexes[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4));
        return indexes;
    }

    private sealed record ChunkFinals(long[] Indexes, List<ResultRun> Runs);
}

/// <summary>An ended job's partial output cannot be resumed (its input file is gone).</summary>
public sealed class PartialOutputUnavailableException(string message) : Exception(message);
