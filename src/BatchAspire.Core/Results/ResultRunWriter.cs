using BatchAspire.Core.Files;
using BatchAspire.Storage;

namespace BatchAspire.Core.Results;

/// <summary>
/// Writes one result run: final result lines whose line indexes keep rising, as a <see cref="LinePart"/> in the blob
/// store with each line's index in the job. A line whose index is not above the last one written is refused
/// (<see cref="TryAppendAsync"/> returns false) and goes to the results hash instead, so a run is always in input
/// order and assembly can make it part of the job's file without reading it. The run's prefix is listed for the
/// sweep until <see cref="ResultStore.CompleteChunkAsync"/> records it (a pass that crashes or loses leaves nothing
/// for long).
/// </summary>
public sealed class ResultRunWriter : IAsyncDisposable
{
    /// <summary>Lines collect into stretches of this many bytes before they go to the blob store.</summary>
    public const int SegmentBytes = FileLayout.SegmentBytes / 4;

    private readonly BlobDeletions _deletions;
    private readonly LinePartWriter _part;
    private readonly ResultRun _run;
    private readonly PooledBuffer _data = new(SegmentBytes + 4096);
    private readonly PooledBuffer _lens = new(16 * 1024);
    private readonly PooledBuffer _indexes = new(16 * 1024);
    private bool _listed;
    private bool _committed;
    private bool _disposed;

    internal ResultRunWriter(IBlobStore blobs, BlobDeletions deletions, string jobId, string runId, RunKind kind)
    {
        _deletions = deletions;
        _run = new ResultRun(jobId, runId, kind, 0, 0, -1, -1, 0);
        _part = new LinePartWriter(blobs, _run.Prefix, withLineIndexes: true);
    }

    public RunKind Kind => _run.Kind;

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    public long First { get; private set; } = -1;

    public long Last { get; private set; } = -1;

    /// <summary>The run as recorded, once <see cref="CompleteAsync"/> is done; null when it holds no line.</summary>
    public ResultRun? Run => Lines == 0 || !_committed ? null : _run with { Lines = Lines, Bytes = Bytes, First = First, Last = Last, Segments = _part.Segments };

    /// <summary>Appends a line (without '\n') if <paramref name="index"/> comes after the last line; false otherwise.</summary>
    public async ValueTask<bool> TryAppendAsync(long index, ReadOnlyMemory<byte> line)
    {
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (index <= Last) return false;
        if (_data.Length > 0 && _data.Length + line.Length + 1 > SegmentBytes) await FlushAsync();
        _data.Append(line.Span);
        _data.Append("\n"u8);
        _lens.AppendUInt32(checked((uint)line.Length));
        _indexes.AppendUInt32(checked((uint)index));
        if (First < 0) First = index;
        Last = index;
        Lines++;
        Bytes += line.Length + 1;
        return true;
    }

    /// <summary>Writes what is buffered and commits the run's blobs (nothing when it holds no line).</summary>
    public async Task CompleteAsync()
    {
        if (Lines == 0) return;
        if (_data.Length > 0) await FlushAsync();
        await _part.CommitAsync();
        _committed = true;
    }

    /// <summary>Deletes the run's blobs (a pass that lost to another, or failed).</summary>
    public async Task DeleteAsync()
    {
        await _part.DisposeAsync();
        if (_listed) await _deletions.DeleteAsync([_run.Prefix]);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _part.DisposeAsync();
        _data.Dispose();
        _lens.Dispose();
        _indexes.Dispose();
    }

    private async ValueTask FlushAsync()
    {
        if (!_listed)
        {
            await _deletions.ExpectAsync(_run.Prefix);
            _listed = true;
        }
        await _part.AppendAsync(_data.Written, _lens.Written, _indexes.Written);
        _data.Clear();
        _lens.Clear();
        _indexes.Clear();
    }
}
