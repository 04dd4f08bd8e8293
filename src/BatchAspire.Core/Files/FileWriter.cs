using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// Builds a new file line by line (workers: a job's output and error files). Lines collect into a
/// segment of up to <see cref="FileLayout.SegmentBytes"/>; a full segment goes to Redis while the next
/// one fills. Nothing is visible until <see cref="CommitAsync"/>; disposing an uncommitted writer
/// deletes what it wrote.
/// </summary>
public sealed class FileWriter : IAsyncDisposable
{
    private readonly FileStaging _staging;
    private readonly string _tenant;
    private readonly string _filename;
    private readonly string _purpose;
    private readonly long? _expiresAt;
    private readonly TimeProvider _time;
    private PooledBuffer _data = new(FileLayout.SegmentBytes);
    private PooledBuffer _lens = new(64 * 1024);
    private PooledBuffer _spareData = new(FileLayout.SegmentBytes);
    private PooledBuffer _spareLens = new(64 * 1024);
    private long _segmentFirstLine;
    private bool _committed;
    private bool _disposed;

    internal FileWriter(IDatabase db, string tenant, string filename, string purpose, long? expiresAt, TimeProvider time)
    {
        _staging = new FileStaging(db, OpaqueIds.NewFileId());
        _tenant = tenant;
        _filename = filename;
        _purpose = purpose;
        _expiresAt = expiresAt;
        _time = time;
    }

    public string FileId => _staging.FileId;

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Appends one line (the writer adds the '\n'). The line must not contain '\n'.</summary>
    public async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (line.Span.Contains((byte)'\n')) throw new ArgumentException("A line must not contain '\\n'.", nameof(line));

        if (_data.Length > 0 && _data.Length + line.Length + 1 > FileLayout.SegmentBytes) await FlushAsync();
        _data.Append(line.Span);
        _data.Append("\n"u8);
        _lens.AppendUInt32(checked((uint)line.Length));
        Lines++;
        Bytes += line.Length + 1;
    }

    /// <summary>Makes the file visible (hash + tenant list) atomically; returns the stored file.</summary>
    public async Task<StoredFile> CommitAsync(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (_data.Length > 0) await FlushAsync();
        var createdAt = _time.GetUtcNow().ToUnixTimeSeconds();
        var fields = new List<HashEntry>
        {
            new(FileFields.Tenant, _tenant),
            new(FileFields.Filename, _filename),
            new(FileFields.Purpose, _purpose),
            new(FileFields.Bytes, Bytes),
            new(FileFields.CreatedAt, createdAt),
            new(FileFields.Lines, Lines),
        };
        if (_expiresAt is { } expiresAt) fields.Add(new(FileFields.ExpiresAt, expiresAt));
        await _staging.CommitAsync(_tenant, fields);
        _committed = true;
        return new StoredFile(FileId, _tenant, _filename, _purpose, Bytes, createdAt, _expiresAt, Lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_committed) await _staging.AbortAsync();
        else await _staging.CompleteAsync();
        _data.Dispose();
        _lens.Dispose();
        _spareData.Dispose();
        _spareLens.Dispose();
    }

    private async ValueTask FlushAsync()
    {
        await _staging.AppendSegmentAsync(_data.Written, _lens.Written, _segmentFirstLine);
        // The spare buffers' write has finished (AppendSegmentAsync waited for it): fill them next.
        (_data, _spareData) = (_spareData, _data);
        (_lens, _spareLens) = (_spareLens, _lens);
        _data.Clear();
        _lens.Clear();
        _segmentFirstLine = Lines;
    }
}
