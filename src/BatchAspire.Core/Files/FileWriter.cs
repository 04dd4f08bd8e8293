using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// Builds a new file line by line. Lines collect into a stretch of up to <see cref="FileLayout.SegmentBytes"/> that
/// goes to the blob store when full. Nothing is visible until <see cref="CommitAsync"/>; disposing an uncommitted
/// writer deletes what it wrote (and a crash leaves the blobs listed for the sweep, <see cref="BlobDeletions"/>).
/// </summary>
public sealed class FileWriter : IAsyncDisposable
{
    private readonly IDatabase _db;
    private readonly BlobDeletions _deletions;
    private readonly LinePartWriter _part;
    private readonly string _tenant;
    private readonly string _filename;
    private readonly string _purpose;
    private readonly long? _expiresAt;
    private readonly TimeProvider _time;
    private readonly PooledBuffer _data = new(FileLayout.SegmentBytes);
    private readonly PooledBuffer _lens = new(64 * 1024);
    private bool _started;
    private bool _committed;
    private bool _disposed;

    internal FileWriter(IDatabase db, IBlobStore blobs, BlobDeletions deletions, string tenant, string filename, string purpose,
        long? expiresAt, TimeProvider time)
    {
        _db = db;
        _deletions = deletions;
        FileId = OpaqueIds.NewFileId();
        _part = new LinePartWriter(blobs, BlobPrefixes.File(FileId));
        _tenant = tenant;
        _filename = filename;
        _purpose = purpose;
        _expiresAt = expiresAt;
        _time = time;
    }

    public string FileId { get; }

    public long Lines { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Appends one line (the writer adds the '\n'). The line must not contain '\n'.</summary>
    public async ValueTask WriteLineAsync(ReadOnlyMemory<byte> line, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (line.Span.Contains((byte)'\n')) throw new ArgumentException("A line must not contain '\\n'.", nameof(line));
        if (!_started)
        {
            await _deletions.ExpectAsync(_part.Prefix);
            _started = true;
        }

        if (_data.Length > 0 && _data.Length + line.Length + 1 > FileLayout.SegmentBytes) await FlushAsync(ct);
        _data.Append(line.Span);
        _data.Append("\n"u8);
        _lens.AppendUInt32(checked((uint)line.Length));
        Lines++;
        Bytes += line.Length + 1;
    }

    /// <summary>Makes the file visible (blobs, then hash and tenant list, atomically); returns the stored file.</summary>
    public async Task<StoredFile> CommitAsync(CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_disposed || _committed, this);
        if (!_started)
        {
            await _deletions.ExpectAsync(_part.Prefix);
            _started = true;
        }
        if (_data.Length > 0) await FlushAsync(ct);
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
        var part = await _part.CommitAsync(ct);
        try
        {
            // A file the system writes for the tenant counts toward its usage but is never refused.
            await FileRecords.CommitAsync(_db, FileId, _tenant, part, fields, TenantQuota.Unlimited);
        }
        catch
        {
            await _deletions.TryDeleteAsync(part.Prefix);
            throw;
        }
        _committed = true;
        return new StoredFile(FileId, _tenant, _filename, _purpose, Bytes, createdAt, _expiresAt, Lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _part.DisposeAsync();
        if (!_committed && _started)
        {
            try { await _db.SortedSetRemoveAsync(RedisKeys.BlobsToDelete, _part.Prefix); }
            catch (Exception e) when (e is RedisException or TimeoutException) { }   // the sweep removes it after its bound
        }
        _data.Dispose();
        _lens.Dispose();
    }

    private async ValueTask FlushAsync(CancellationToken ct)
    {
        await _part.AppendAsync(_data.Written, _lens.Written, ct: ct);
        _data.Clear();
        _lens.Clear();
    }
}
