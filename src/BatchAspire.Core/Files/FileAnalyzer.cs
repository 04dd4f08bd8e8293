using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using BatchAspire.Core.Jsonl;

namespace BatchAspire.Core.Files;

/// <summary>
/// Builds the <see cref="FileAnalysis"/> of a stored upload by reading it back once, segment by segment: the
/// per-line checks of docs/openai/batches.md §6.2, made when a batch is first created on the file, which is where the real
/// API makes them, rather than on the upload's request path. Duplicate custom_ids are found from one 64-bit
/// hash per line (8 bytes a line, sorted once); only a file in which a hash repeats is read a second time, to
/// confirm each repeat exactly and name its line.
/// </summary>
internal sealed class FileAnalyzer(LinePartReader reader, IReadOnlyList<LinePart> parts, string fileId, long lines, int maxLineBytes)
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

    /// <summary>Every line of the file in order; a line over the limit is skipped over, not read.</summary>
    private async IAsyncEnumerable<StoredLine> ReadLinesAsync([EnumeratorCancellation] CancellationToken ct)
    {
        long index = 0;
        await foreach (var line in reader.ReadLinesAsync(parts, 0, lines, maxLineBytes, ct))
        {
            index++;
            yield return line;
        }
        if (index < lines) throw new InvalidDataException($"File {fileId} has fewer lines than its {lines}.");
    }
}
