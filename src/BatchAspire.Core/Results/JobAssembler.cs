using System.Buffers.Binary;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
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
/// all: its segments are moved into the file when the job commits (<see cref="ResultStore.CommitAsync"/>). Every
/// other line is copied once, in order, into staged segments: lines of runs that interleave with others (read
/// sequentially), lines of the results hash (HMGET by line index, several batches in flight; the failure bitmap
/// says which file), and, for a cancelled or expired job, an error line for every request without a result.
/// </summary>
public sealed class JobAssembler(IConnectionMultiplexer redis, IFileStore files)
{
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
            byte[] indexes = (byte[]?)await db.StringGetAsync(runs[r].IndexesKey) ?? throw new AssemblyRaceException(request.JobId);
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
            new AssembledFile(db, request.JobId, $"asm.o.{token}", $"{request.JobId}_output.jsonl", request.ExpiresAt),
            new AssembledFile(db, request.JobId, $"asm.e.{token}", $"{request.JobId}_error.jsonl", request.ExpiresAt));
        try
        {
            await WalkAsync(db, request, runs, owner, movable, assembled, ct);
            await assembled.Output.CompleteAsync();
            await assembled.Errors.CompleteAsync();
            return assembled;
        }
        catch
        {
            await assembled.DisposeAsync();
            throw;
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
                        if (index == run.First) await assembled.FileOf(run.Kind).AppendRunAsync(run, await ReadSegmentFirstLinesAsync(db, run));
                        continue;
                    }
                    if ((index & 0xFFF) == 0) ct.ThrowIfCancellationRequested();
                    var reader = readers[r] ??= new RunReader(db, run);
                    await assembled.FileOf(run.Kind).WriteLineAsync(await reader.NextAsync());
                    if (reader.Done)
                    {
                        readers[r] = null;
                        reader.Dispose();
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
            foreach (var reader in readers) reader?.Dispose();
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

    private static async Task<long[]> ReadSegmentFirstLinesAsync(IDatabase db, ResultRun run)
    {
        byte[] segs = (byte[]?)await db.StringGetAsync(run.SegmentsKey) ?? throw new AssemblyRaceException(run.JobId);
        var firsts = new long[segs.Length / 4];
        for (var i = 0; i < firsts.Length; i++) firsts[i] = BinaryPrimitives.ReadUInt32LittleEndian(segs.AsSpan(i * 4));
        return firsts;
    }

    // Redis bitmaps number bits from the most significant bit of byte 0.
    private static bool IsSet(byte[] bitmap, long index)
    {
        var offset = index >> 3;
        return offset < bitmap.Length && (bitmap[offset] & (0x80 >> (int)(index & 7))) != 0;
    }

    /// <summary>Reads a run's lines in order: its line lengths once, its segments one after another (the next one prefetched).</summary>
    private sealed class RunReader(IDatabase db, ResultRun run) : IDisposable
    {
        private byte[]? _lens;
        private Task<RedisValue>? _next;
        private ReadOnlyMemory<byte> _segment;
        private long _segmentIndex = -1;
        private int _offset;
        private long _line;

        public bool Done => _line == run.Lines;

        public async ValueTask<ReadOnlyMemory<byte>> NextAsync()
        {
            _lens ??= (byte[]?)await db.StringGetAsync(run.LineLengthsKey) ?? throw new AssemblyRaceException(run.JobId);
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_lens.AsSpan(checked((int)(_line * 4))));
            if (_offset >= _segment.Length)
            {
                _segmentIndex++;
                var current = _next ?? db.ListGetByIndexAsync(run.DataKey, _segmentIndex);
                _next = db.ListGetByIndexAsync(run.DataKey, _segmentIndex + 1);
                var value = await current;
                if (value.IsNull) throw new AssemblyRaceException(run.JobId);
                _segment = value;
                _offset = 0;
            }
            var line = _segment.Slice(_offset, length);
            _offset += length + 1;
            _line++;
            return line;
        }

        public void Dispose() => _next?.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }
}

/// <summary>A run vanished while a job was being assembled: another finalizer committed the job first.</summary>
public sealed class AssemblyRaceException(string jobId) : Exception($"A result run of job {jobId} vanished during assembly.");

/// <summary>Both staged files of a job, ready for <see cref="ResultStore.CommitAsync"/>; disposing it uncommitted deletes the staged parts.</summary>
public sealed class AssembledJob(AssemblyRequest request, IReadOnlyList<ResultRun> runs, AssembledFile output, AssembledFile errors) : IAsyncDisposable
{
    public AssemblyRequest Request { get; } = request;

    /// <summary>Every recorded run of the job: deleted when the job commits (the moved ones are gone by then).</summary>
    public IReadOnlyList<ResultRun> Runs { get; } = runs;

    public AssembledFile Output { get; } = output;

    public AssembledFile Errors { get; } = errors;

    internal bool Committed { get; set; }

    internal AssembledFile FileOf(RunKind kind) => kind == RunKind.Output ? Output : Errors;

    public async ValueTask DisposeAsync()
    {
        if (!Committed)
        {
            await Output.DeleteStagedAsync();
            await Errors.DeleteStagedAsync();
        }
        await Output.DisposeAsync();
        await Errors.DisposeAsync();
    }
}

/// <summary>
/// One file of a job as a sequence of parts: staged segments (lines copied in order) and moved runs. The final
/// segment index (first line of each segment) is known before commit.
/// </summary>
public sealed class AssembledFile : IAsyncDisposable
{
    private readonly ResultRunWriter _staged;
    private readonly List<FilePart> _parts = [];
    private readonly List<long> _segmentFirstLines = [];
    private long _stagedLinesAtPartStart;
    private long _fileLinesAtPartStart;
    private int _stagedSegmentsAtPartStart;

    internal AssembledFile(IDatabase db, string jobId, string stagingRunId, string filename, long? expiresAt)
    {
        _staged = new ResultRunWriter(db, jobId, stagingRunId, RunKind.Output);
        FileId = OpaqueIds.NewFileId();
        Filename = filename;
        ExpiresAt = expiresAt;
        Staging = new ResultRun(jobId, stagingRunId, RunKind.Output, 0, 0, -1, -1);
    }

    public string FileId { get; }

    public string Filename { get; }

    public long? ExpiresAt { get; }

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Lines moved rather than copied.</summary>
    public long MovedLines { get; private set; }

    internal ResultRun Staging { get; }

    internal IReadOnlyList<FilePart> Parts => _parts;

    internal IReadOnlyList<long> SegmentFirstLines => _segmentFirstLines;

    internal async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line)
    {
        await _staged.TryAppendAsync(_staged.Lines, line);
        Lines++;
        Bytes += line.Length + 1;
    }

    internal async Task AppendRunAsync(ResultRun run, long[] segmentFirstLines)
    {
        await EndStagedPartAsync();
        _parts.Add(new FilePart(run, segmentFirstLines.Length, run.Lines));
        foreach (var first in segmentFirstLines) _segmentFirstLines.Add(Lines + first);
        Lines += run.Lines;
        Bytes += run.Bytes;
        MovedLines += run.Lines;
        _fileLinesAtPartStart = Lines;
    }

    internal async Task CompleteAsync()
    {
        await EndStagedPartAsync();
        await _staged.CompleteAsync();
    }

    internal Task DeleteStagedAsync() => _staged.DeleteAsync();

    public ValueTask DisposeAsync() => _staged.DisposeAsync();

    /// <summary>Closes the lines copied since the last moved run into a part of their own (its last segment ends here).</summary>
    private async ValueTask EndStagedPartAsync()
    {
        var lines = _staged.Lines - _stagedLinesAtPartStart;
        if (lines == 0) return;
        await _staged.EndSegmentAsync();
        var firsts = _staged.SegmentFirstLines;
        for (var i = _stagedSegmentsAtPartStart; i < firsts.Count; i++)
            _segmentFirstLines.Add(_fileLinesAtPartStart + firsts[i] - _stagedLinesAtPartStart);
        _parts.Add(new FilePart(null, firsts.Count - _stagedSegmentsAtPartStart, lines));
        _stagedSegmentsAtPartStart = firsts.Count;
        _stagedLinesAtPartStart = _staged.Lines;
        _fileLinesAtPartStart = Lines;
    }
}

/// <summary>A part of an assembled file: a moved <paramref name="Run"/>, or (null) the next staged segments.</summary>
internal sealed record FilePart(ResultRun? Run, int Segments, long Lines);
