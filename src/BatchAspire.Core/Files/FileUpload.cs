using System.Buffers;
using System.Buffers.Binary;
using BatchAspire.Core.Jsonl;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>Limits of one upload.</summary>
/// <param name="MaxBytes">The file may have at most this many bytes.</param>
/// <param name="MaxLineBytes">Lines longer than this are reported (not parsed) and make the file unusable for a batch.</param>
public sealed record FileUploadLimits(long MaxBytes, int MaxLineBytes);

/// <summary>The upload went over <see cref="FileUploadLimits.MaxBytes"/>; nothing of it is kept.</summary>
public sealed class FileTooLargeException(long limit) : Exception($"The file is larger than {limit} bytes.")
{
    public long Limit { get; } = limit;
}

/// <summary>
/// Streams an uploaded file into Redis as it arrives and analyses every line as it passes
/// (see <see cref="FileAnalysisBuilder"/>). Memory stays at a ring of five segment buffers (one can grow to
/// hold a line up to the line limit) whatever the file's size. The bytes are stored exactly as received; lines are the
/// pieces between '\n' (a '\r' before it stays part of the line), blank lines at the very end are kept
/// in the content but are not lines, and blank lines elsewhere are reported as invalid JSON lines.
/// Nothing is visible until <see cref="CommitAsync"/>; disposing without it deletes everything written.
/// </summary>
public sealed class FileUpload : IAsyncDisposable
{
    // HSETNX of many custom_ids in one call: 0 means an earlier line holds the id (a duplicate).
    private static readonly LuaScript ClaimIdsScript = LuaScript.Prepare("""
        local duplicates = {}
        for i = 1, #ARGV, 2 do
          if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 0 then duplicates[#duplicates + 1] = (i + 1) / 2 end
        end
        return duplicates
        """);

    /// <summary>Segment writes in flight at once: enough to keep reading while Redis (or a busy machine) answers late.</summary>
    private const int WritesInFlight = 4;

    // Blank lines are held back (they are not lines if the file ends there), but only this many.
    private const int MaxCarriedBlankLines = 4096;
    private const int MaxCarriedBlankBytes = 64 * 1024;

    private readonly IDatabase _db;
    private readonly FileStaging _staging;
    private readonly string _tenant;
    private readonly FileUploadLimits _limits;
    private readonly TimeProvider _time;
    private readonly RequestLineScanner _scanner = new();
    private readonly FileAnalysisBuilder _analysis;
    private readonly List<int> _blankLengths = [];

    // A ring of segment buffers: _cur (slot _slot) fills while the others are being written to Redis.
    private readonly byte[][] _ring = [.. Enumerable.Range(0, WritesInFlight + 1).Select(_ => ArrayPool<byte>.Shared.Rent(FileLayout.SegmentBytes))];
    private readonly PooledBuffer[] _lensRing = [.. Enumerable.Range(0, WritesInFlight + 1).Select(_ => new PooledBuffer(16 * 1024))];
    private int _slot;
    private byte[] _cur;
    private PooledBuffer _lens;
    private int _limit = FileLayout.SegmentBytes;   // _cur holds at most this many bytes before a flush
    private int _filled;                             // bytes in _cur
    private int _lineStart;                          // start of the line not yet ended
    private int _cut;                                // end (after '\n') of the last recorded line: where a segment may end
    private int _blankBytes;
    private long _segmentFirstLine;
    private bool _oversize;                          // inside a line longer than MaxLineBytes, already flushed raw
    private long _oversizeLength;
    // custom_id → 0-based line index of the lines in _cur; an id is a slice of _cur (no copy), written
    // with the segment, so the slice stays valid until Redis has it.
    private readonly List<HashEntry> _ids = [];
    private long _idCount;
    private bool _hadTooLongLine;
    private bool _read;
    private bool _committed;
    private bool _disposed;
    private FileAnalysis? _result;

    internal FileUpload(IDatabase db, string tenant, FileUploadLimits limits, TimeProvider time)
    {
        _db = db;
        _tenant = tenant;
        _limits = limits;
        _time = time;
        _analysis = new FileAnalysisBuilder(limits.MaxLineBytes);
        _staging = new FileStaging(db, OpaqueIds.NewFileId(), WritesInFlight);
        _cur = _ring[0];
        _lens = _lensRing[0];
    }

    public string FileId => _staging.FileId;

    public long Bytes { get; private set; }

    public long Lines { get; private set; }

    /// <summary>The analysis of every line; available after <see cref="ReadFromAsync"/>.</summary>
    public FileAnalysis Analysis => _result ?? throw new InvalidOperationException("The file has not been read yet.");

    /// <summary>Reads <paramref name="source"/> to its end, storing and analysing it. Throws <see cref="FileTooLargeException"/> past the limit.</summary>
    public async Task ReadFromAsync(Stream source, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_read) throw new InvalidOperationException("An upload reads one stream.");
        _read = true;
        while (true)
        {
            if (_filled == _limit) await MakeRoomAsync();
            var n = await source.ReadAsync(_cur.AsMemory(_filled, _limit - _filled), ct);
            if (n == 0) break;
            Bytes += n;
            if (Bytes > _limits.MaxBytes) throw new FileTooLargeException(_limits.MaxBytes);
            ScanLineEnds(_filled, n);
            _filled += n;
        }
        await FinishAsync();
    }

    /// <summary>
    /// Makes the file visible: hash with its analysis, data keys, and the tenant's list. It expires
    /// <paramref name="expiresAfterSeconds"/> after its creation time, or never when null.
    /// </summary>
    public async Task<StoredFile> CommitAsync(string filename, string purpose, long? expiresAfterSeconds, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var analysis = Analysis;
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
        fields.AddRange(analysis.ToHashEntries());
        await _staging.CommitAsync(_tenant, fields);
        _committed = true;
        return new StoredFile(FileId, _tenant, filename, purpose, Bytes, createdAt, expiresAt, Lines);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_committed) await _staging.CompleteAsync();
        else await _staging.AbortAsync();
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
            RecordTooLong(_oversizeLength + length);
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
        RecordLine(_lineStart, length);
        _cut = newline + 1;
    }

    private void RecordLine(int start, int length)
    {
        var line = _cur.AsSpan(start, length);
        var number = Lines + 1;
        _lens.AppendUInt32((uint)line.Length);
        if (line.Length > _limits.MaxLineBytes)
        {
            _analysis.AddTooLong(number, line.Length);
            _hadTooLongLine = true;
        }
        else
        {
            var info = _scanner.Scan(line, readCustomId: false);
            _analysis.Add(number, info);
            if (info.IsObject && info.HasCustomId)
            {
                _ids.Add(new HashEntry(
                    info.CustomIdEscaped ? info.CustomId : _cur.AsMemory(start + info.CustomIdOffset, info.CustomIdLength),
                    Lines));
            }
        }
        Lines++;
    }

    private void RecordTooLong(long length)
    {
        _lens.AppendUInt32((uint)Math.Min(length, uint.MaxValue));
        _analysis.AddTooLong(Lines + 1, length);
        _hadTooLongLine = true;
        Lines++;
    }

    private void RecordBlankLines()
    {
        foreach (var length in _blankLengths)
        {
            _lens.AppendUInt32((uint)length);
            _analysis.AddError(LineError.InvalidJson(Lines + 1));
            Lines++;
        }
        _blankLengths.Clear();
        _blankBytes = 0;
    }

    /// <summary>
    /// Finds the duplicate custom_ids of a file whose <c>:ids</c> hash came out smaller than its number of
    /// ids: rebuilds the hash from the staged segments, one segment at a time, with HSETNX (the first line
    /// of an id keeps it), and reports every later line that repeats one. Only files with duplicates pay
    /// for this second pass; they fail every batch anyway.
    /// </summary>
    private async Task FindDuplicateCustomIdsAsync()
    {
        var idsKey = _staging.CustomIdsKey;
        if (_hadTooLongLine)
        {
            // Segments of a file with an over-long line do not end at line ends: report that ids repeat, not where.
            _analysis.AddError(new LineError(LineErrorCodes.DuplicateCustomId,
                "This file uses at least one custom_id more than once; custom_id values must be unique within a file.", "custom_id", null));
            return;
        }
        await _db.KeyDeleteAsync(idsKey);
        var segs = (byte[]?)await _db.StringGetAsync(_staging.SegmentsKey) ?? [];
        var scanner = new RequestLineScanner();
        for (var k = 0; k < segs.Length / 4; k++)
        {
            long first = BinaryPrimitives.ReadUInt32LittleEndian(segs.AsSpan(k * 4));
            var end = k + 1 < segs.Length / 4 ? BinaryPrimitives.ReadUInt32LittleEndian(segs.AsSpan(k * 4 + 4)) : Lines;
            if (end <= first) continue;
            var dataTask = _db.ListGetByIndexAsync(_staging.DataKey, k);
            var lensTask = _db.StringGetRangeAsync(_staging.LineLengthsKey, first * 4, end * 4 - 1);
            ReadOnlyMemory<byte> data = await dataTask;
            ReadOnlyMemory<byte> lens = await lensTask;
            var pairs = new List<RedisValue>();
            var offset = 0;
            for (var line = first; line < end; line++)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(lens.Span[(int)((line - first) * 4)..]);
                var info = scanner.Scan(data.Span.Slice(offset, length));
                if (info.IsObject && info.HasCustomId) { pairs.Add(info.CustomId); pairs.Add(line); }
                offset += length + 1;
            }
            if (pairs.Count == 0) continue;
            var duplicates = (RedisResult[])(await _db.ScriptEvaluateAsync(ClaimIdsScript.ExecutableScript, [idsKey], [.. pairs]))!;
            foreach (var position in duplicates)
            {
                var pair = 2 * ((int)position - 1);
                _analysis.AddError(LineError.DuplicateCustomId((long)pairs[pair + 1] + 1, (string)pairs[pair]!));
            }
        }
        await _db.KeyExpireAsync(idsKey, FileStaging.Ttl);
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

    /// <summary>Sends <c>_cur[0..length)</c> as a segment and carries the rest over into the next buffer of the ring.</summary>
    private async ValueTask FlushAsync(int length)
    {
        // The segment's custom_ids go into the :ids hash in one HSET (HSETNX semantics are restored below,
        // for the rare file that repeats an id): per-line commands would cost more than the rest of the upload.
        HashEntry[]? ids = null;
        if (_ids.Count > 0)
        {
            _idCount += _ids.Count;
            ids = [.. _ids];
            _ids.Clear();
        }
        await _staging.AppendSegmentAsync(_cur.AsMemory(0, length), _lens.Written, _segmentFirstLine, ids);
        // The write of the segment WritesInFlight appends ago has completed, so the next slot of the ring is free.
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
        _segmentFirstLine = Lines;
    }

    private async ValueTask FinishAsync()
    {
        if (_oversize)
        {
            RecordTooLong(_oversizeLength + (_filled - _lineStart));
            _oversize = false;
        }
        else if (_filled > _lineStart && !IsBlank(_cur.AsSpan(_lineStart, _filled - _lineStart)))
        {
            RecordBlankLines();
            RecordLine(_lineStart, _filled - _lineStart);
        }
        // What is still held back is blank lines at the end: bytes of the content, not lines.
        _blankLengths.Clear();
        if (_filled > 0) await FlushAsync(_filled);
        await _staging.CompleteAsync();
        if (_idCount > 0 && await _db.HashLengthAsync(_staging.CustomIdsKey) != _idCount) await FindDuplicateCustomIdsAsync();
        _result = _analysis.Build();
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept(" \t\r"u8) < 0;
}
