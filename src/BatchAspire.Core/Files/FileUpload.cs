using System.Buffers;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>Limits of one upload.</summary>
/// <param name="MaxBytes">The file may have at most this many bytes.</param>
/// <param name="MaxLineBytes">Lines longer than this are reported (not parsed) and make the file unusable for a batch.</param>
/// <param name="Quota">The tenant's quota: an upload that would pass its storage limits is refused (<see cref="QuotaExceededException"/>).</param>
public sealed record FileUploadLimits(long MaxBytes, int MaxLineBytes, TenantQuota? Quota = null);

/// <summary>The upload went over <see cref="FileUploadLimits.MaxBytes"/>; nothing of it is kept.</summary>
public sealed class FileTooLargeException(long limit) : Exception($"The file is larger than {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Streams an uploaded file into the blob store as it arrives, finding its line ends as they pass. The request
/// lines themselves are checked later, when a batch is created on the file (<see cref="FileAnalyzer"/>),
/// which is where the real API checks them (docs/openai/files.md §2.2): an upload only stores bytes and line lengths, so
/// it costs little more than receiving the bytes. Memory stays at two segment buffers (one can grow to hold a
/// line up to the line limit) whatever the file's size. The bytes are stored exactly as
/// received; lines are the pieces between '\n' (a '\r' before it stays part of the line), blank lines at
/// the very end are kept in the content but are not lines, and blank lines elsewhere are lines (which the
/// analysis reports as invalid JSON). Nothing is visible until <see cref="CommitAsync"/>; disposing without
/// it deletes everything written (and a crash leaves the blobs listed for the sweep, <see cref="BlobDeletions"/>).
/// </summary>
public sealed class FileUpload : IAsyncDisposable
{
    // Blank lines are held back (they are not lines if the file ends there), but only this many.
    private const int MaxCarriedBlankLines = 4096;
    private const int MaxCarriedBlankBytes = 64 * 1024;

    private readonly IDatabase _db;
    private readonly BlobDeletions _deletions;
    private readonly LinePartWriter _part;
    private readonly string _tenant;
    private readonly FileUploadLimits _limits;
    private readonly TimeProvider _time;
    private readonly List<int> _blankLengths = [];

    // Two segment buffers: _cur (slot _slot) fills; a flush carries the unfinished line over into the other.
    private readonly byte[][] _ring = [.. Enumerable.Range(0, 2).Select(_ => ArrayPool<byte>.Shared.Rent(FileLayout.SegmentBytes))];
    private readonly PooledBuffer[] _lensRing = [.. Enumerable.Range(0, 2).Select(_ => new PooledBuffer(16 * 1024))];
    private int _slot;
    private byte[] _cur;
    private PooledBuffer _lens;
    private int _limit = FileLayout.SegmentBytes;   // _cur holds at most this many bytes before a flush
    private int _filled;                             // bytes in _cur
    private int _lineStart;                          // start of the line not yet ended
    private int _cut;                                // end (after '\n') of the last recorded line: where a segment may end
    private int _blankBytes;
    private bool _segmentAtLineStart = true;        // the bytes in _cur start a line (not the rest of an oversize one)
    private bool _oversize;                          // inside a line longer than MaxLineBytes, already flushed raw
    private long _oversizeLength;
    private bool _read;
    private bool _committed;
    private bool _disposed;

    internal FileUpload(IDatabase db, IBlobStore blobs, BlobDeletions deletions, string tenant, FileUploadLimits limits, TimeProvider time)
    {
        _db = db;
        _deletions = deletions;
        _tenant = tenant;
        _limits = limits;
        _time = time;
        FileId = OpaqueIds.NewFileId();
        _part = new LinePartWriter(blobs, BlobPrefixes.File(FileId));
        _cur = _ring[0];
        _lens = _lensRing[0];
    }

    public string FileId { get; }

    public long Bytes { get; private set; }

    public long Lines { get; private set; }

    /// <summary>Reads <paramref name="source"/> to its end, storing and analysing it. Throws <see cref="FileTooLargeException"/> past the limit.</summary>
    public async Task ReadFromAsync(Stream source, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_read) throw new InvalidOperationException("An upload reads one stream.");
        _read = true;
        // Stop reading as soon as the tenant's storage quota is passed; the commit checks it again, atomically.
        var storedBefore = 0L;
        var room = long.MaxValue;
        if (_limits.Quota?.MaxStoredBytes is { } maxStored)
        {
            storedBefore = (long)await _db.HashGetAsync(RedisKeys.TenantUsage(_tenant), TenantUsage.StoredBytes);
            room = maxStored - storedBefore;
        }
        await _deletions.ExpectAsync(_part.Prefix);
        while (true)
        {
            if (_filled == _limit) await MakeRoomAsync();
            var n = await source.ReadAsync(_cur.AsMemory(_filled, _limit - _filled), ct);
            if (n == 0) break;
            Bytes += n;
            if (Bytes > _limits.MaxBytes) throw new FileTooLargeException(_limits.MaxBytes);
            if (Bytes > room) throw new QuotaExceededException(QuotaLimit.StoredBytes, _limits.Quota!.MaxStoredBytes!.Value, storedBefore, Bytes);
            ScanLineEnds(_filled, n);
            _filled += n;
        }
        await FinishAsync();
    }

    /// <summary>
    /// Makes the file visible: its blobs, then its hash and the tenant's list. It expires
    /// <paramref name="expiresAfterSeconds"/> after its creation time, or never when null.
    /// </summary>
    public async Task<StoredFile> CommitAsync(string filename, string purpose, long? expiresAfterSeconds, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        if (!_read) throw new InvalidOperationException("The file has not been read yet.");
        var createdAt = _time.GetUtcNow().ToUnixTimeSeconds();
        var expiresAt = createdAt + expiresAfterSeconds;
        var fields = new List<HashEntry>
        {
            new(FileFields.Tenant, _tenant),
            new(FileFields.Filename, filename),
            new(FileFields.Purpose, purpose),
            new(FileFields.Bytes, Bytes),
            new(FileFields.CreatedAt, createdAt),
            new(FileFields.Lines, Lines),
            new(FileFields.MaxLineBytes, _limits.MaxLineBytes),
        };
        if (expiresAt is { } e) fields.Add(new(FileFields.ExpiresAt, e));
        var part = await _part.CommitAsync(ct);
        try
        {
            await FileRecords.CommitAsync(_db, FileId, _tenant, part, fields, _limits.Quota ?? TenantQuota.Unlimited);
        }
        catch
        {
            await _deletions.TryDeleteAsync(part.Prefix);
            throw;
        }
        _committed = true;
        return new StoredFile(FileId, _tenant, filename, purpose, Bytes, createdAt, expiresAt, Lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _part.DisposeAsync();
        if (!_committed && _read)
        {
            try { await _db.SortedSetRemoveAsync(RedisKeys.BlobsToDelete, _part.Prefix); }
            catch (Exception e) when (e is RedisException or TimeoutException) { }   // the sweep removes it after its bound
        }
        foreach (var buffer in _ring) ArrayPool<byte>.Shared.Return(buffer);
        foreach (var lens in _lensRing) lens.Dispose();
    }

    private void ScanLineEnds(int start, int count)
    {
        var pos = start;
        var end = start + count;
        while (pos < end)
        {
            var i = _cur.AsSpan(pos, end - pos).IndexOf((byte)'\n');
            if (i < 0) return;
            var newline = pos + i;
            EndLine(newline);
            _lineStart = newline + 1;
            pos = newline + 1;
        }
    }

    private void EndLine(int newline)
    {
        var length = newline - _lineStart;
        if (_oversize)
        {
            RecordLine(_oversizeLength + length);
            _oversize = false;
            _cut = newline + 1;
            return;
        }
        var line = _cur.AsSpan(_lineStart, length);
        if (IsBlank(line))
        {
            // Held back: blank lines at the very end of a file are not lines.
            _blankLengths.Add(length);
            _blankBytes += length + 1;
            if (_blankLengths.Count >= MaxCarriedBlankLines || _blankBytes >= MaxCarriedBlankBytes)
            {
                RecordBlankLines();
                _cut = newline + 1;
            }
            return;
        }
        RecordBlankLines();
        RecordLine(length);
        _cut = newline + 1;
    }

    private void RecordLine(long length)
    {
        _lens.AppendUInt32((uint)Math.Min(length, uint.MaxValue));
        Lines++;
    }

    private void RecordBlankLines()
    {
        // Not at the end after all: each is a line (one that is not JSON, which the analysis reports).
        foreach (var length in _blankLengths) RecordLine(length);
        _blankLengths.Clear();
        _blankBytes = 0;
    }

    private async ValueTask MakeRoomAsync()
    {
        if (!_oversize && _cut == 0 && _blankLengths.Count > 0)
        {
            // Blank lines followed by more data are not at the end of the file after all.
            RecordBlankLines();
            _cut = _lineStart;
        }

        if (_cut > 0)
        {
            await FlushAsync(_cut);
        }
        else if (_oversize)
        {
            _oversizeLength += _filled - _lineStart;
            await FlushAsync(_filled);
        }
        else if (_limit < _limits.MaxLineBytes + 1)
        {
            // One line fills the buffer: give it room, up to the line limit.
            var limit = (int)Math.Min(Math.Max(2L * _limit, FileLayout.SegmentBytes), _limits.MaxLineBytes + 1L);
            var bigger = ArrayPool<byte>.Shared.Rent(limit);
            _cur.AsSpan(0, _filled).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_cur);
            _cur = _ring[_slot] = bigger;
            _limit = limit;
        }
        else
        {
            // A line over the limit: store its bytes as they come, without holding them.
            _oversize = true;
            _oversizeLength = _filled - _lineStart;
            await FlushAsync(_filled);
        }
    }

    /// <summary>Writes <c>_cur[0..length)</c> to the blob and carries the rest over into the other buffer.</summary>
    private async ValueTask FlushAsync(int length)
    {
        await _part.AppendAsync(_cur.AsMemory(0, length), _lens.Written, startsAtLine: _segmentAtLineStart);
        _segmentAtLineStart = !_oversize;
        var next = (_slot + 1) % _ring.Length;
        var tail = _filled - length;
        var limit = Math.Max(FileLayout.SegmentBytes, tail + FileLayout.SegmentBytes / 4);
        if (_ring[next].Length < limit)
        {
            ArrayPool<byte>.Shared.Return(_ring[next]);
            _ring[next] = ArrayPool<byte>.Shared.Rent(limit);
        }
        _cur.AsSpan(length, tail).CopyTo(_ring[next]);
        _slot = next;
        _cur = _ring[next];
        _lens = _lensRing[next];
        _lens.Clear();
        _limit = limit;
        _filled = tail;
        _lineStart = Math.Max(0, _lineStart - length);
        _cut = 0;
    }

    private async ValueTask FinishAsync()
    {
        if (_oversize)
        {
            RecordLine(_oversizeLength + (_filled - _lineStart));
            _oversize = false;
        }
        else if (_filled > _lineStart && !IsBlank(_cur.AsSpan(_lineStart, _filled - _lineStart)))
        {
            RecordBlankLines();
            RecordLine(_filled - _lineStart);
        }
        // What is still held back is blank lines at the end: bytes of the content, not lines.
        _blankLengths.Clear();
        if (_filled > 0) await FlushAsync(_filled);
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;
}
