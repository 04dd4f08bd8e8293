using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using BatchAspire.Core.Jsonl;

namespace BatchAspire.Core.Files;

/// <summary>
/// Builds the <see cref="FileAnalysis"/> of a stored upload by reading it back once, segment by segment: the
/// per-line checks of batches.md §6.2, made when a batch is first created on the file, which is where the real
/// API makes them, rather than on the upload's request path. Duplicate custom_ids are found from one 64-bit
/// hash per line (8 bytes a line, sorted once); only a file in which a hash repeats is read a second time, to
/// confirm each repeat exactly and name its line.
/// </summary>
internal sealed class FileAnalyzer(IFileStore files, string fileId, long lines, int maxLineBytes)
{
    public async Task<FileAnalysis> AnalyzeAsync(CancellationToken ct = default)
    {
        var builder = new FileAnalysisBuilder(maxLineBytes);
        var scanner = new RequestLineScanner();
        var hashes = lines <= FileAnalysis.MaxLinesCheckedForDuplicates ? new ulong[lines] : null;
        await foreach (var line in ReadLinesAsync(ct))
        {
            if (line.TooLong)
            {
                builder.AddTooLong(line.Index + 1, line.Length);
                continue;
            }
            var info = scanner.Scan(line.Bytes.Span, readCustomId: false);
            builder.Add(line.Index + 1, info);
            if (hashes is not null && info.IsObject && info.HasCustomId) hashes[line.Index] = IdHash(CustomIdBytes(line.Bytes.Span, info));
        }
        if (hashes is not null && RepeatedHashes(hashes) is { Count: > 0 } repeated) await FindDuplicatesAsync(repeated, builder, ct);
        return builder.Build();
    }

    /// <summary>
    /// The second pass, for a file in which some custom_id hashes repeat: the lines with those hashes, grouped by
    /// their exact custom_id; every line after the first of an id is a duplicate.
    /// </summary>
    private async Task FindDuplicatesAsync(HashSet<ulong> repeated, FileAnalysisBuilder builder, CancellationToken ct)
    {
        var scanner = new RequestLineScanner();
        var firstLineOf = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var line in ReadLinesAsync(ct))
        {
            if (line.TooLong) continue;
            var info = scanner.Scan(line.Bytes.Span, readCustomId: false);
            if (!info.IsObject || !info.HasCustomId) continue;
            var id = CustomIdBytes(line.Bytes.Span, info);
            if (!repeated.Contains(IdHash(id))) continue;
            var text = Encoding.UTF8.GetString(id);
            if (!firstLineOf.TryAdd(text, line.Index)) builder.AddError(LineError.DuplicateCustomId(line.Index + 1, text));
        }
    }

    /// <summary>Sorts the hashes (their line order is not needed again) and returns those that occur more than once.</summary>
    private static HashSet<ulong> RepeatedHashes(ulong[] hashes)
    {
        Array.Sort(hashes);
        var repeated = new HashSet<ulong>();
        for (var i = 1; i < hashes.Length; i++)
            if (hashes[i] != 0 && hashes[i] == hashes[i - 1]) repeated.Add(hashes[i]);
        return repeated;
    }

    private static ReadOnlySpan<byte> CustomIdBytes(ReadOnlySpan<byte> line, in RequestLineInfo info) =>
        info.CustomIdEscaped ? Encoding.UTF8.GetBytes(info.CustomId!) : line.Slice(info.CustomIdOffset, info.CustomIdLength);

    /// <summary>A 64-bit hash of an id's bytes, never 0 (0 marks a line without an id). Collisions only cost a second pass.</summary>
    private static ulong IdHash(ReadOnlySpan<byte> id)
    {
        const ulong multiplier = 0x9E3779B97F4A7C15;
        var hash = 0xCBF29CE484222325 ^ (ulong)id.Length;
        while (id.Length >= 8)
        {
            hash = BitOperations.RotateLeft((hash ^ BinaryPrimitives.ReadUInt64LittleEndian(id)) * multiplier, 29);
            id = id[8..];
        }
        Span<byte> tail = stackalloc byte[8];
        tail.Clear();
        id.CopyTo(tail);
        hash = (hash ^ BinaryPrimitives.ReadUInt64LittleEndian(tail)) * multiplier;
        hash ^= hash >> 32;
        hash *= multiplier;
        hash ^= hash >> 29;
        return hash == 0 ? 1 : hash;
    }

    /// <summary>One stored line: its bytes, or only its length when it is over the line limit (never held whole).</summary>
    private readonly record struct StoredLine(long Index, long Length, ReadOnlyMemory<byte> Bytes, bool TooLong);

    /// <summary>
    /// Every line of the file in order, from the store's content and line-length streams. An upload's segments end at
    /// line ends (a line up to the limit is held whole, in one grown buffer if need be) except where a line over the
    /// limit was stored as it came, so a line within the limit is a slice of one segment; that line is only skipped.
    /// </summary>
    private async IAsyncEnumerable<StoredLine> ReadLinesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await using var segments = files.ReadContentAsync(fileId, ct).GetAsyncEnumerator(ct);
        var data = new SegmentCursor(segments);
        long index = 0;
        await foreach (var stored in files.ReadLineLengthsAsync(fileId, 0, lines, ct))
        {
            long length = (uint)stored;   // stored as uint32
            if (length > maxLineBytes)
            {
                yield return new StoredLine(index, length, default, TooLong: true);
                await data.SkipAsync(length + 1);
            }
            else
            {
                if (!await data.EnsureAsync() && length > 0 || data.Remaining < length)
                    throw new InvalidDataException($"Line {index + 1} of file {fileId} is not whole in one segment.");
                yield return new StoredLine(index, length, data.Take((int)length), TooLong: false);
                await data.SkipAsync(1);   // the '\n' (the last line may have none)
            }
            index++;
        }
        if (index < lines) throw new InvalidDataException($"File {fileId} has fewer line lengths than lines.");
    }

    /// <summary>A read position in the file's segments, as the content stream hands them out.</summary>
    private sealed class SegmentCursor(IAsyncEnumerator<ReadOnlyMemory<byte>> segments)
    {
        private ReadOnlyMemory<byte> _segment;
        private int _offset;

        public int Remaining => _segment.Length - _offset;

        public ReadOnlyMemory<byte> Take(int length)
        {
            var taken = _segment.Slice(_offset, length);
            _offset += length;
            return taken;
        }

        /// <summary>Moves past used-up segments to one with bytes left; false at the end of the file.</summary>
        public async ValueTask<bool> EnsureAsync()
        {
            while (Remaining == 0)
            {
                if (!await segments.MoveNextAsync()) return false;
                _segment = segments.Current;
                _offset = 0;
            }
            return true;
        }

        public async ValueTask SkipAsync(long bytes)
        {
            while (bytes > 0 && await EnsureAsync())
            {
                var step = (int)Math.Min(bytes, Remaining);
                _offset += step;
                bytes -= step;
            }
        }
    }
}
