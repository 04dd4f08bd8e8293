using System.Buffers.Binary;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Results;

/// <summary>What to assemble.</summary>
/// <param name="UnansweredCode">
/// For a cancelled or expired job: the error code (<c>batch_cancelled</c>, <c>batch_expired</c>) written for every
/// request without a final result. Null for a completed job, where every request must have one.
/// </param>
public sealed record AssemblyRequest(string JobId, string Tenant, long Total, string InputFileId, long? ExpiresAt, string? UnansweredCode);

/// <summary>
/// Builds a job's output file (successes) and error file (failures) in the job's input order. Final results live in
/// the chunks' result runs (lines in input order, see <see cref="ResultRunWriter"/>) and, for lines a provider
/// returned out of order, in the results hash. A run that no other line of its file falls inside is not read at
/// all: it becomes a part of the file as it is (a file is a list of <see cref="LinePart"/>s, so no byte is copied).
/// Every other line is copied once, in order, into staged parts: lines of runs that interleave with others (read
/// sequentially), lines of the results hash (HMGET by line index, several batches in flight; the failure bitmap
/// says which file), and, for a cancelled or expired job, an error line for every request without a result.
/// </summary>
public sealed class JobAssembler(IConnectionMultiplexer redis, IFileStore files, IBlobStore blobs, BlobDeletions deletions)
{
    private readonly LinePartReader _reader = new(blobs);

    /// <summary>Results per HMGET.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>HMGETs in flight while the writer works through the oldest.</summary>
    public int Window { get; init; } = 6;

    /// <summary>
    /// Stages both files. Nothing is visible until the returned plan is committed; disposing it uncommitted deletes
    /// what was staged. Throws <see cref="AssemblyRaceException"/> when a run vanished meanwhile (another finalizer
    /// committed the job first).
    /// </summary>
    public async Task<AssembledJob> PrepareAsync(AssemblyRequest request, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var runs = await ReadRunsAsync(db, request.JobId);
        var owner = new int[request.Total];
        Array.Fill(owner, -1);
        for (var r = 0; r < runs.Count; r++)
        {
            var indexes = await ReadLineIndexesAsync(runs[r]);
            if (indexes.Length != runs[r].Lines * 4)
                throw new InvalidOperationException($"Result run {runs[r].RunId} of job {request.JobId} has {indexes.Length / 4} indexes, expected {runs[r].Lines}.");
            for (var i = 0; i < indexes.Length; i += 4)
            {
                var index = BinaryPrimitives.ReadUInt32LittleEndian(indexes.AsSpan(i));
                if (index >= request.Total || owner[index] != -1)
                    throw new InvalidOperationException($"Line {index} of job {request.JobId} is outside the job or in two result runs.");
                owner[index] = r;
            }
        }
        var movable = new bool[runs.Count];
        for (var r = 0; r < runs.Count; r++) movable[r] = IsAlone(runs, owner, r);

        var token = Guid.NewGuid().ToString("N")[..12];
        var assembled = new AssembledJob(request, runs,
            new AssembledFile(blobs, deletions, request.JobId, $"o{token}", $"{request.JobId}_output.jsonl", request.ExpiresAt),
            new AssembledFile(blobs, deletions, request.JobId, $"e{token}", $"{request.JobId}_error.jsonl", request.ExpiresAt));
        try
        {
            await WalkAsync(db, request, runs, owner, movable, assembled, ct);
            await assembled.Output.CompleteAsync();
            await assembled.Errors.CompleteAsync();
            return assembled;
        }
        catch (BlobNotFoundException)
        {
            // A run's blobs are deleted only once the job has ended: another finalizer committed it meanwhile.
            await assembled.DisposeAsync();
            throw new AssemblyRaceException(request.JobId);
        }
        catch
        {
            await assembled.DisposeAsync();
            throw;
        }
    }

    private async Task<byte[]> ReadLineIndexesAsync(ResultRun run)
    {
        try
        {
            await using var stream = await blobs.OpenReadAsync(run.Part.LineIndexesBlob);
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes);
            return bytes;
        }
        catch (BlobNotFoundException)
        {
            throw new AssemblyRaceException(run.JobId);
        }
    }

    private async Task WalkAsync(IDatabase db, AssemblyRequest request, List<ResultRun> runs, int[] owner, bool[] movable,
        AssembledJob assembled, CancellationToken ct)
    {
        var resultsKey = RedisKeys.JobResults(request.JobId);
        byte[] failures = (byte[]?)await db.StringGetAsync(RedisKeys.JobFailures(request.JobId)) ?? [];
        await using var inputLines = request.UnansweredCode is null
            ? null
            : files.ReadLinesAsync(request.InputFileId, 0, request.Total, ct).GetAsyncEnumerator(ct);
        long inputPosition = -1;
        var readers = new RunReader?[runs.Count];

        // Lines no run holds come from the results hash, by ascending line index, a few HMGETs ahead.
        var inFlight = new Queue<(long[] Indexes, Task<RedisValue[]> Values)>();
        long scan = 0;
        void Fill()
        {
            while (inFlight.Count < Window && scan < request.Total)
            {
                var batch = new List<long>(BatchSize);
                for (; scan < request.Total && batch.Count < BatchSize; scan++) if (owner[scan] < 0) batch.Add(scan);
                if (batch.Count == 0) return;
                var fields = new RedisValue[batch.Count];
                for (var i = 0; i < fields.Length; i++) fields[i] = batch[i];
                inFlight.Enqueue(([.. batch], db.HashGetAsync(resultsKey, fields)));
            }
        }
        long[] gapIndexes = [];
        RedisValue[] gapValues = [];
        var gapAt = 0;

        Fill();
        try
        {
            for (long index = 0; index < request.Total; index++)
            {
                var r = owner[index];
                if (r >= 0)
                {
                    var run = runs[r];
                    if (movable[r])
                    {
                        if (index == run.First) await assembled.FileOf(run.Kind).AppendRunAsync(run);
                        continue;
                    }
                    if ((index & 0xFFF) == 0) ct.ThrowIfCancellationRequested();
                    var reader = readers[r] ??= new RunReader(_reader, run, ct);
                    await assembled.FileOf(run.Kind).WriteLineAsync(await reader.NextAsync());
                    if (reader.Done)
                    {
                        readers[r] = null;
                        await reader.DisposeAsync();
                    }
                    continue;
                }

                if (gapAt == gapIndexes.Length)
                {
                    ct.ThrowIfCancellationRequested();
                    var (indexes, values) = inFlight.Dequeue();
                    (gapIndexes, gapValues, gapAt) = (indexes, await values, 0);
                    Fill();
                }
                if (gapIndexes[gapAt] != index) throw new InvalidOperationException($"Assembly of job {request.JobId} lost its place at line {index}.");
                var value = gapValues[gapAt++];
                if (value.IsNull)
                {
                    if (request.UnansweredCode is not { } code)
                        throw new InvalidOperationException($"Line {index} of job {request.JobId} has no final result.");
                    while (inputPosition < index)
                    {
                        if (!await inputLines!.MoveNextAsync()) throw new InvalidOperationException($"Input file of job {request.JobId} has fewer than {index + 1} lines.");
                        inputPosition++;
                    }
                    var customId = ResultLine.CustomIdOfRequest(inputLines!.Current.Span);
                    await assembled.Errors.WriteLineAsync(ResultLine.Unanswered(customId, code, ResultLine.MessageFor(code)));
                }
                else
                {
                    await assembled.FileOf(IsSet(failures, index) ? RunKind.Error : RunKind.Output).WriteLineAsync(value);
                }
            }
        }
        finally
        {
            foreach (var reader in readers) if (reader is not null) await reader.DisposeAsync();
            while (inFlight.Count > 0)
            {
                try { await inFlight.Dequeue().Values; } catch (Exception e) when (e is RedisException or TimeoutException) { }
            }
        }
    }

    /// <summary>The recorded runs of the job's chunks (runs of chunks whose results are not done are never recorded).</summary>
    private static async Task<List<ResultRun>> ReadRunsAsync(IDatabase db, string jobId)
    {
        var chunkIds = await db.ListRangeAsync(RedisKeys.JobChunks(jobId));
        var reads = chunkIds.Select(id => db.HashGetAsync(RedisKeys.Chunk((string)id!), [ChunkFields.OutputRun, ChunkFields.ErrorRun])).ToArray();
        var runs = new List<ResultRun>();
        foreach (var read in reads)
        {
            var values = await read;
            if (ResultRun.Parse(jobId, RunKind.Output, values[0]) is { } output) runs.Add(output);
            if (ResultRun.Parse(jobId, RunKind.Error, values[1]) is { } error) runs.Add(error);
        }
        return runs;
    }

    /// <summary>
    /// True when no line of the run's file other than the run's own lies between its first and last line, so the
    /// run's segments can become the file's as they are. A line held by no run might go to either file: it counts.
    /// </summary>
    private static bool IsAlone(List<ResultRun> runs, int[] owner, int r)
    {
        var run = runs[r];
        for (var i = run.First; i <= run.Last; i++)
        {
            var o = owner[i];
            if (o == r) continue;
            if (o < 0 || runs[o].Kind == run.Kind) return false;
        }
        return true;
    }

    // Redis bitmaps number bits from the most significant bit of byte 0.
    private static bool IsSet(byte[] bitmap, long index)
    {
        var offset = index >> 3;
        return offset < bitmap.Length && (bitmap[offset] & (0x80 >> (int)(index & 7))) != 0;
    }

    /// <summary>Reads a run's lines in order, streaming.</summary>
    private sealed class RunReader(LinePartReader reader, ResultRun run, CancellationToken ct) : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<StoredLine> _lines = reader.ReadLinesAsync([run.Part], 0, run.Lines, ct: ct).GetAsyncEnumerator(ct);
        private long _line;

        public bool Done => _line == run.Lines;

        public async ValueTask<ReadOnlyMemory<byte>> NextAsync()
        {
            if (!await _lines.MoveNextAsync()) throw new InvalidDataException($"Result run {run.RunId} of job {run.JobId} ended before its {run.Lines} lines.");
            _line++;
            return _lines.Current.Bytes;
        }

        public ValueTask DisposeAsync() => _lines.DisposeAsync();
    }
}

/// <summary>A run vanished while a job was being assembled: another finalizer committed the job first.</summary>
public sealed class AssemblyRaceException(string jobId) : Exception($"A result run of job {jobId} vanished during assembly.");

/// <summary>Both staged files of a job, ready for <see cref="ResultStore.CommitAsync"/>; disposing it uncommitted deletes the staged parts.</summary>
public sealed class AssembledJob(AssemblyRequest request, IReadOnlyList<ResultRun> runs, AssembledFile output, AssembledFile errors) : IAsyncDisposable
{
    public AssemblyRequest Request { get; } = request;

    /// <summary>Every recorded run of the job: those that did not become part of a file are deleted when the job commits.</summary>
    public IReadOnlyList<ResultRun> Runs { get; } = runs;

    public AssembledFile Output { get; } = output;

    public AssembledFile Errors { get; } = errors;

    internal bool Committed { get; set; }

    internal AssembledFile FileOf(RunKind kind) => kind == RunKind.Output ? Output : Errors;

    public async ValueTask DisposeAsync()
    {
        await Output.DisposeAsync();
        await Errors.DisposeAsync();
        if (!Committed)
        {
            await Output.DeleteStagedAsync();
            await Errors.DeleteStagedAsync();
        }
    }
}

/// <summary>
/// One file of a job as a list of <see cref="LinePart"/>s: staged parts (lines copied in order, written as they come)
/// and whole runs taken as they are.
/// </summary>
public sealed class AssembledFile : IAsyncDisposable
{
    private readonly IBlobStore _blobs;
    private readonly BlobDeletions _deletions;
    private readonly string _jobId;
    private readonly string _token;
    private readonly List<LinePart> _parts = [];
    private readonly List<string> _staged = [];
    private readonly PooledBuffer _data = new(ResultRunWriter.SegmentBytes + 4096);
    private readonly PooledBuffer _lens = new(16 * 1024);
    private LinePartWriter? _writer;
    private bool _disposed;

    internal AssembledFile(IBlobStore blobs, BlobDeletions deletions, string jobId, string token, string filename, long? expiresAt)
    {
        _blobs = blobs;
        _deletions = deletions;
        _jobId = jobId;
        _token = token;
        FileId = OpaqueIds.NewFileId();
        Filename = filename;
        ExpiresAt = expiresAt;
    }

    public string FileId { get; }

    public string Filename { get; }

    public long? ExpiresAt { get; }

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Lines of runs taken whole rather than copied.</summary>
    public long MovedLines { get; private set; }

    internal IReadOnlyList<LinePart> Parts => _parts;

    /// <summary>Prefixes of the parts this assembly wrote itself.</summary>
    internal IReadOnlyList<string> StagedPrefixes => _staged;

    internal async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line)
    {
        if (_writer is null)
        {
            var prefix = BlobPrefixes.AssemblyPart(_jobId, _token, _staged.Count);
            await _deletions.ExpectAsync(prefix);
            _staged.Add(prefix);
            _writer = new LinePartWriter(_blobs, prefix);
        }
        if (_data.Length > 0 && _data.Length + line.Length + 1 > ResultRunWriter.SegmentBytes) await FlushAsync();
        _data.Append(line.Span);
        _data.Append("\n"u8);
        _lens.AppendUInt32(checked((uint)line.Length));
        Lines++;
        Bytes += line.Length + 1;
    }

    internal async Task AppendRunAsync(ResultRun run)
    {
        await EndStagedPartAsync();
        _parts.Add(run.Part);
        Lines += run.Lines;
        Bytes += run.Bytes;
        MovedLines += run.Lines;
    }

    internal Task CompleteAsync() => EndStagedPartAsync();

    internal async Task DeleteStagedAsync()
    {
        foreach (var prefix in _staged) await _deletions.TryDeleteAsync(prefix);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_writer is not null) await _writer.DisposeAsync();
        _data.Dispose();
        _lens.Dispose();
    }

    /// <summary>Commits the lines copied since the last run as a part of their own.</summary>
    private async Task EndStagedPartAsync()
    {
        if (_writer is null) return;
        if (_data.Length > 0) await FlushAsync();
        _parts.Add(await _writer.CommitAsync());
        await _writer.DisposeAsync();
        _writer = null;
    }

    private async ValueTask FlushAsync()
    {
        await _writer!.AppendAsync(_data.Written, _lens.Written);
        _data.Clear();
        _lens.Clear();
    }
}
