using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BatchAspire.Storage;

namespace BatchAspire.Core.Files;

/// <summary>One stored line: its 0-based index, its length and, unless it is over the reader's limit, its bytes.</summary>
public readonly record struct StoredLine(long Index, long Length, ReadOnlyMemory<byte> Bytes, bool TooLong);

/// <summary>
/// Reads lines of a sequence of <see cref="LinePart"/>s (a file is one part, or several in order) from the blob
/// store, streaming: memory stays at a read buffer (grown only to hold the longest line handed out) and the
/// segment tables of the parts touched. Line numbers are 0-based across all parts. Every item's memory is valid only
/// until the next one is asked for.
/// </summary>
internal sealed class LinePartReader(IBlobStore blobs)
{
    private const int LengthsPerRead = 16 * 1024;
    private const int ReadBufferBytes = 256 * 1024;

    /// <summary>
    /// Lines [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>), each without its '\n'.
    /// A line longer than <paramref name="maxLineBytes"/> is skipped over, not read: it comes back with
    /// <see cref="StoredLine.TooLong"/> set and no bytes.
    /// </summary>
    public async IAsyncEnumerable<StoredLine> ReadLinesAsync(IReadOnlyList<LinePart> parts, long first, long count,
        int maxLineBytes = int.MaxValue, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        var end = first + Math.Max(0, count);
        long partStart = 0;
        foreach (var part in parts)
        {
            var partEnd = partStart + part.Lines;
            if (partEnd > first && partStart < end)
            {
                var from = Math.Max(first, partStart) - partStart;
                var to = Math.Min(end, partEnd) - partStart;
                await foreach (var line in ReadPartAsync(part, await SegmentTable.ReadAsync(blobs, part, ct), from, to, maxLineBytes, ct))
                    yield return line with { Index = line.Index + partStart };
            }
            partStart = partEnd;
            if (partStart >= end) yield break;
        }
    }

    /// <summary>The given 0-based line indexes (ascending), each without its '\n'.</summary>
    public async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> ReadLinesAsync(IReadOnlyList<LinePart> parts,
        IReadOnlyList<long> ascendingIndexes, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var next = 0;
        long partStart = 0;
        foreach (var part in parts)
        {
            if (next == ascendingIndexes.Count) yield break;
            var partEnd = partStart + part.Lines;
            if (ascendingIndexes[next] < partEnd)
            {
                var table = await SegmentTable.ReadAsync(blobs, part, ct);
                while (next < ascendingIndexes.Count && ascendingIndexes[next] < partEnd)
                {
                    // The wanted lines of one segment are read as one range; lines between them are skipped.
                    var local = ascendingIndexes[next] - partStart;
                    if (local < 0) throw new ArgumentException("Line indexes must be ascending.", nameof(ascendingIndexes));
                    var segmentEnd = table.EndOf(table.SegmentOf(local), part.Lines);
                    var last = next;
                    while (last + 1 < ascendingIndexes.Count && ascendingIndexes[last + 1] - partStart < segmentEnd) last++;
                    var wanted = next;
                    await foreach (var line in ReadPartAsync(part, table, local, ascendingIndexes[last] - partStart + 1, int.MaxValue, ct))
                    {
                        var index = line.Index + partStart;
                        if (index != ascendingIndexes[wanted]) continue;
                        yield return (index, line.Bytes);
                        wanted++;
                        if (wanted <= last && ascendingIndexes[wanted] <= index)
                            throw new ArgumentException("Line indexes must be ascending.", nameof(ascendingIndexes));
                    }
                    next = last + 1;
                }
            }
            partStart = partEnd;
        }
        if (next < ascendingIndexes.Count)
            throw new ArgumentOutOfRangeException(nameof(ascendingIndexes), $"Line {ascendingIndexes[next]} is past the last line ({partStart}).");
    }

    /// <summary>Byte lengths (without '\n') of lines [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>).</summary>
    public async IAsyncEnumerable<int> ReadLineLengthsAsync(IReadOnlyList<LinePart> parts, long first, long count,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var end = first + count;
        long partStart = 0;
        foreach (var part in parts)
        {
            var partEnd = partStart + part.Lines;
            if (partEnd > first && partStart < end)
            {
                await foreach (var length in ReadLengthsAsync(part, Math.Max(first, partStart) - partStart, Math.Min(end, partEnd) - partStart, ct))
                    yield return (int)length;
            }
            partStart = partEnd;
        }
    }

    /// <summary>The stored bytes, part after part, exactly as written.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadContentAsync(IReadOnlyList<LinePart> parts,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        try
        {
            foreach (var part in parts)
            {
                if (part.Bytes == 0) continue;
                await using var stream = await blobs.OpenReadAsync(part.DataBlob, 0, part.Bytes, ct);
                int n;
                while ((n = await stream.ReadAsync(buffer, ct)) > 0) yield return buffer.AsMemory(0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Lines [from, to) of one part (indexes local to the part).</summary>
    private async IAsyncEnumerable<StoredLine> ReadPartAsync(LinePart part, SegmentTable table, long from, long to, int maxLineBytes,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (from >= to) yield break;
        var segment = table.SegmentOf(from);
        var (line, offset) = table.Start(segment);
        await foreach (var length in ReadLengthsAsync(part, line, from, ct)) offset += length + 1;
        var endOffset = part.Bytes;
        if (to < part.Lines)
        {
            endOffset = offset;
            await foreach (var length in ReadLengthsAsync(part, from, to, ct)) endOffset += length + 1;
        }

        await using var stream = await blobs.OpenReadAsync(part.DataBlob, offset, Math.Min(part.Bytes, endOffset) - offset, ct);
        using var cutter = new LineCutter(stream);
        var index = from;
        await foreach (var length in ReadLengthsAsync(part, from, to, ct))
        {
            if (length > maxLineBytes)
            {
                await cutter.SkipAsync(length + 1, ct);
                yield return new StoredLine(index++, length, default, TooLong: true);
                continue;
            }
            var bytes = await cutter.TakeLineAsync((int)length, ct);
            if (bytes.Length < length) throw new InvalidDataException($"Blob {part.DataBlob} ends inside line {index}.");
            yield return new StoredLine(index++, length, bytes, TooLong: false);
        }
    }

    private async IAsyncEnumerable<long> ReadLengthsAsync(LinePart part, long from, long to, [EnumeratorCancellation] CancellationToken ct)
    {
        if (from >= to) yield break;
        var buffer = ArrayPool<byte>.Shared.Rent(LengthsPerRead * 4);
        try
        {
            await using var stream = await blobs.OpenReadAsync(part.IndexBlob, from * 4, (to - from) * 4, ct);
            var carried = 0;
            long read = 0;
            while (read < to - from)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(carried), ct);
                if (n == 0) throw new InvalidDataException($"Blob {part.IndexBlob} holds fewer line lengths than {part.Lines} lines.");
                var whole = (carried + n) / 4 * 4;
                for (var i = 0; i < whole; i += 4) yield return BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i));
                read += whole / 4;
                carried = carried + n - whole;
                buffer.AsSpan(whole, carried).CopyTo(buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A part's segment table: the first line and byte offset of every segment that starts at a line start.</summary>
    private sealed class SegmentTable(long[] firstLines, long[] offsets)
    {
        public static async Task<SegmentTable> ReadAsync(IBlobStore blobs, LinePart part, CancellationToken ct)
        {
            if (part.Segments == 0) return new SegmentTable([0], [0]);
            var bytes = new byte[part.Segments * 16];
            await using (var stream = await blobs.OpenReadAsync(part.IndexBlob, part.Lines * 4, bytes.Length, ct))
            {
                await stream.ReadExactlyAsync(bytes, ct);
            }
            var firstLines = new long[part.Segments];
            var offsets = new long[part.Segments];
            for (var i = 0; i < part.Segments; i++)
            {
                firstLines[i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 16));
                offsets[i] = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 16 + 8));
            }
            return new SegmentTable(firstLines, offsets);
        }

        /// <summary>The last segment whose first line is at or before <paramref name="line"/>.</summary>
        public int SegmentOf(long line)
        {
            int lo = 0, hi = firstLines.Length - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (firstLines[mid] <= line) lo = mid; else hi = mid - 1;
            }
            return lo;
        }

        public (long Line, long Offset) Start(int segment) => (firstLines[segment], offsets[segment]);

        public long EndOf(int segment, long lines) => segment + 1 < firstLines.Length ? firstLines[segment + 1] : lines;
    }

    /// <summary>Cuts lines of known lengths off a stream, through one pooled buffer that grows to the longest line.</summary>
    private sealed class LineCutter(Stream stream) : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        private int _start;
        private int _end;
        private bool _eof;

        /// <summary>The next <paramref name="length"/> bytes (fewer only at the end of the stream), then past the '\n'.</summary>
        public async ValueTask<ReadOnlyMemory<byte>> TakeLineAsync(int length, CancellationToken ct)
        {
            await FillAsync(length + 1, ct);
            var take = Math.Min(length, _end - _start);
            var line = _buffer.AsMemory(_start, take);
            _start += Math.Min(length + 1, _end - _start);
            return line;
        }

        public async ValueTask SkipAsync(long bytes, CancellationToken ct)
        {
            while (bytes > 0)
            {
                if (_start == _end)
                {
                    if (_eof) return;
                    _start = _end = 0;
                    await ReadMoreAsync(ct);
                    continue;
                }
                var step = (int)Math.Min(bytes, _end - _start);
                _start += step;
                bytes -= step;
            }
        }

        private async ValueTask FillAsync(int wanted, CancellationToken ct)
        {
            while (_end - _start < wanted && !_eof)
            {
                if (_buffer.Length - _start < wanted)
                {
                    // Move what is left to the front, into a bigger buffer if one line needs more room.
                    var target = _buffer.Length < wanted ? ArrayPool<byte>.Shared.Rent(wanted) : _buffer;
                    _buffer.AsSpan(_start, _end - _start).CopyTo(target);
                    if (target != _buffer)
                    {
                        ArrayPool<byte>.Shared.Return(_buffer);
                        _buffer = target;
                    }
                    _end -= _start;
                    _start = 0;
                }
                await ReadMoreAsync(ct);
            }
        }

        private async ValueTask ReadMoreAsync(CancellationToken ct)
        {
            var n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            if (n == 0) _eof = true;
            _end += n;
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
