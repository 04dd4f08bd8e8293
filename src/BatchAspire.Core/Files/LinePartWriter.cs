using BatchAspire.Storage;

namespace BatchAspire.Core.Files;

/// <summary>
/// Writes one <see cref="LinePart"/>: the caller hands over stretches of bytes with the lengths of the lines that end
/// in them; the writer adds a segment-table entry for every stretch that starts at a line start. Nothing is visible
/// until <see cref="CommitAsync"/>; disposing an uncommitted writer leaves nothing under the prefix.
/// </summary>
internal sealed class LinePartWriter : IAsyncDisposable
{
    private readonly IBlobWriter _data;
    private readonly IBlobWriter _index;
    private readonly IBlobWriter? _lineIndexes;
    private readonly PooledBuffer _segments = new(1024);
    private bool _committed;
    private bool _disposed;

    public LinePartWriter(IBlobStore blobs, string prefix, bool withLineIndexes = false)
    {
        Prefix = prefix;
        _data = blobs.OpenWrite(prefix + ".data");
        _index = blobs.OpenWrite(prefix + ".index");
        _lineIndexes = withLineIndexes ? blobs.OpenWrite(prefix + ".lines") : null;
    }

    public string Prefix { get; }

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    public int Segments => _segments.Length / 16;

    /// <summary>
    /// Appends <paramref name="data"/> and the lengths (uint32 each) of the lines that end in it. When
    /// <paramref name="startsAtLine"/>, the stretch starts a line and gets a segment-table entry. When the returned task
    /// completes, the caller may reuse every buffer it passed.
    /// </summary>
    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> lineLengths,
        ReadOnlyMemory<byte> lineIndexes = default, bool startsAtLine = true, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (data.IsEmpty && lineLengths.IsEmpty) return;
        if (startsAtLine && !data.IsEmpty)
        {
            _segments.AppendUInt64((ulong)Lines);
            _segments.AppendUInt64((ulong)Bytes);
        }
        await _data.WriteAsync(data, ct);
        if (!lineLengths.IsEmpty) await _index.WriteAsync(lineLengths, ct);
        if (_lineIndexes is not null && !lineIndexes.IsEmpty) await _lineIndexes.WriteAsync(lineIndexes, ct);
        Bytes += data.Length;
        Lines += lineLengths.Length / 4;
    }

    /// <summary>Makes the part's blobs visible; its metadata (in Redis) is the caller's to commit next.</summary>
    public async Task<LinePart> CommitAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        await _index.WriteAsync(_segments.Written, ct);
        await Task.WhenAll(_data.CommitAsync(ct), _index.CommitAsync(ct), _lineIndexes?.CommitAsync(ct) ?? Task.CompletedTask);
        _committed = true;
        return new LinePart(Prefix, Lines, Bytes, Segments);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _data.DisposeAsync();
        await _index.DisposeAsync();
        if (_lineIndexes is not null) await _lineIndexes.DisposeAsync();
        _segments.Dispose();
    }
}
