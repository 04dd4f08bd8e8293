using System.Buffers.Binary;
using BatchAspire.Core.Files;
using StackExchange.Redis;

namespace BatchAspire.Core.Results;

/// <summary>
/// Writes one result run: final result lines whose line indexes keep rising, in segments laid out as a file's
/// (whole lines, at most <see cref="FileLayout.SegmentBytes"/>; <see cref="SegmentBytes"/> here). A line whose index is not above the last one written is
/// refused (<see cref="TryAppendAsync"/> returns false) and goes to the results hash instead, so a run is always in
/// input order and assembly can move its segments into the job's file without reading them. Keys carry a TTL until
/// <see cref="ResultStore.CompleteChunkAsync"/> records the run (a pass that crashes or loses leaves nothing for long).
/// </summary>
public sealed class ResultRunWriter : IAsyncDisposable
{
    /// <summary>An unrecorded run outlives its writer by at most this long.</summary>
    internal static readonly TimeSpan Ttl = TimeSpan.FromHours(6);

    /// <summary>
    /// Target size of a run's segments: a quarter of a file segment. The Redis client copies each write into a buffer
    /// of its own size, so smaller writes keep the memory of a results pass (several chunks at once) low; files made
    /// of them just have more segments.
    /// </summary>
    public const int SegmentBytes = FileLayout.SegmentBytes / 4;

    /// <summary>Segment writes in flight while the next segment fills.</summary>
    private const int WritesInFlight = 2;

    private readonly IDatabase _db;
    private readonly ResultRun _keys;
    private readonly Queue<(Task Write, Segment Buffers)> _inFlight = new();
    private readonly Stack<Segment> _spare = new();
    private Segment? _current;
    private readonly List<long> _segmentFirstLines = [];
    private long _segmentFirstLine;
    private bool _expirySet;
    private bool _disposed;

    public ResultRunWriter(IDatabase db, string jobId, string runId, RunKind kind)
    {
        _db = db;
        _keys = new ResultRun(jobId, runId, kind, 0, 0, -1, -1);
    }

    public RunKind Kind => _keys.Kind;

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    public long First { get; private set; } = -1;

    public long Last { get; private set; } = -1;

    /// <summary>The run as recorded, once <see cref="CompleteAsync"/> is done; null when it holds no line.</summary>
    public ResultRun? Run => Lines == 0 ? null : _keys with { Lines = Lines, Bytes = Bytes, First = First, Last = Last };

    /// <summary>Appends a line (without '\n') if <paramref name="index"/> comes after the last line; false otherwise.</summary>
    public async ValueTask<bool> TryAppendAsync(long index, ReadOnlyMemory<byte> line)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (index <= Last) return false;
        _current ??= _spare.Count > 0 ? _spare.Pop() : new Segment();
        if (_current.Data.Length > 0 && _current.Data.Length + line.Length + 1 > SegmentBytes) await FlushAsync();
        _current ??= _spare.Count > 0 ? _spare.Pop() : new Segment();
        _current.Data.Append(line.Span);
        _current.Data.Append("\n"u8);
        _current.Lens.AppendUInt32(checked((uint)line.Length));
        _current.Indexes.AppendUInt32(checked((uint)index));
        if (First < 0) First = index;
        Last = index;
        Lines++;
        Bytes += line.Length + 1;
        return true;
    }

    /// <summary>Segments written so far (or being written).</summary>
    public int Segments => _segmentFirstLines.Count;

    /// <summary>The first line (counted within this writer) of each segment written so far.</summary>
    public IReadOnlyList<long> SegmentFirstLines => _segmentFirstLines;

    /// <summary>Ends the current segment here, so the next line starts a new one.</summary>
    public async ValueTask EndSegmentAsync()
    {
        if (_current is { Data.Length: > 0 }) await FlushAsync();
    }

    /// <summary>Writes what is buffered and waits for every write.</summary>
    public async Task CompleteAsync()
    {
        if (_current is { Data.Length: > 0 }) await FlushAsync();
        while (_inFlight.Count > 0) await WaitOldestAsync();
    }

    /// <summary>Deletes the run's keys (a pass that lost to another, or failed).</summary>
    public async Task DeleteAsync()
    {
        await DrainAsync();
        await _db.KeyDeleteAsync(_keys.Keys);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await DrainAsync();
        _current?.Dispose();
        foreach (var spare in _spare) spare.Dispose();
    }

    private async ValueTask FlushAsync()
    {
        var segment = _current!;
        var first = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(first, checked((uint)_segmentFirstLine));
        _segmentFirstLines.Add(_segmentFirstLine);
        _segmentFirstLine = Lines;
        var writes = new List<Task>(8)
        {
            _db.ListRightPushAsync(_keys.DataKey, segment.Data.Written),
            _db.StringAppendAsync(_keys.LineLengthsKey, segment.Lens.Written),
            _db.StringAppendAsync(_keys.IndexesKey, segment.Indexes.Written),
            _db.StringAppendAsync(_keys.SegmentsKey, first),
        };
        if (!_expirySet)
        {
            _expirySet = true;
            foreach (var key in _keys.Keys) writes.Add(_db.KeyExpireAsync(key, Ttl));
        }
        _inFlight.Enqueue((Task.WhenAll(writes), segment));
        _current = null;
        while (_inFlight.Count > WritesInFlight) await WaitOldestAsync();
    }

    private async Task WaitOldestAsync()
    {
        var (write, segment) = _inFlight.Dequeue();
        try
        {
            await write;
        }
        finally
        {
            // Redis has read the buffers (or the write failed): they can be filled again.
            segment.Clear();
            _spare.Push(segment);
        }
    }

    private async Task DrainAsync()
    {
        while (_inFlight.Count > 0)
        {
            try { await WaitOldestAsync(); } catch (Exception e) when (e is RedisException or TimeoutException or OperationCanceledException) { }
        }
    }

    /// <summary>One segment's bytes, line lengths and line indexes.</summary>
    private sealed class Segment : IDisposable
    {
        public PooledBuffer Data { get; } = new(SegmentBytes + 4096);
        public PooledBuffer Lens { get; } = new(16 * 1024);
        public PooledBuffer Indexes { get; } = new(16 * 1024);

        public void Clear()
        {
            Data.Clear();
            Lens.Clear();
            Indexes.Clear();
        }

        public void Dispose()
        {
            Data.Dispose();
            Lens.Dispose();
            Indexes.Dispose();
        }
    }
}
