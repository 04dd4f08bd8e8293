using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>The Redis implementation of <see cref="IFileStore"/> (layout in docs/architecture.md).</summary>
public sealed class RedisFileStore(IConnectionMultiplexer redis, TimeProvider time) : IFileStore
{
    private const int LengthsPerRead = 16 * 1024;

    private static readonly RedisValue[] FileHashFields =
    [
        FileFields.Tenant, FileFields.Filename, FileFields.Purpose, FileFields.Bytes,
        FileFields.CreatedAt, FileFields.ExpiresAt, FileFields.Lines,
    ];

    private static readonly LuaScript DeleteScript = LuaScript.Prepare("""
        if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
        redis.call('ZREM', KEYS[5], ARGV[2])
        redis.call('ZREM', KEYS[6], ARGV[2])
        return 1
        """);

    // Only onto a file that still exists: one deleted while it was being analysed stays deleted.
    private static readonly LuaScript StoreAnalysisScript = LuaScript.Prepare("""
        if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
        return 0
        """);

    private IDatabase Db => redis.GetDatabase();

    public async Task<StoredFile?> FindAsync(string tenant, string fileId, CancellationToken ct = default)
    {
        var file = await GetAsync(fileId, ct);
        return file is not null && file.Tenant == tenant && !IsExpired(file) ? file : null;
    }

    public async Task<StoredFile?> GetAsync(string fileId, CancellationToken ct = default)
    {
        if (!IsFileId(fileId)) return null;
        var values = await Db.HashGetAsync(RedisKeys.File(fileId), FileHashFields);
        return Parse(fileId, values);
    }

    public FileWriter CreateWriter(string tenant, string filename, string purpose, long? expiresAt) =>
        new(Db, tenant, filename, purpose, expiresAt, time);

    public FileUpload BeginUpload(string tenant, FileUploadLimits limits) => new(Db, tenant, limits, time);

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadLinesAsync(
        string fileId, long firstLine, long count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLine);
        if (count <= 0) yield break;
        var layout = await LoadLayoutAsync(fileId);
        var db = Db;
        var end = Math.Min(firstLine + count, layout.Lines);
        var line = firstLine;
        var segment = layout.SegmentOf(line);
        Task<RedisValue>? prefetched = null;
        while (line < end)
        {
            ct.ThrowIfCancellationRequested();
            var (segmentStart, segmentEnd) = layout.LinesOf(segment);
            var stop = Math.Min(segmentEnd, end);
            var dataTask = prefetched ?? db.ListGetByIndexAsync(RedisKeys.FileData(fileId), segment);
            var lensTask = db.StringGetRangeAsync(RedisKeys.FileLineLengths(fileId), segmentStart * 4, stop * 4 - 1);
            prefetched = stop < end ? db.ListGetByIndexAsync(RedisKeys.FileData(fileId), segment + 1) : null;
            ReadOnlyMemory<byte> data = await dataTask;
            ReadOnlyMemory<byte> lens = await lensTask;
            var offset = 0;
            for (var i = segmentStart; i < stop; i++)
            {
                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(lens.Span[(int)((i - segmentStart) * 4)..]);
                if (i >= line) yield return data.Slice(offset, length);
                offset += length + 1;
            }
            line = stop;
            segment++;
        }
    }

    public async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> ReadLinesAsync(
        string fileId, IReadOnlyList<long> ascendingIndexes, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (ascendingIndexes.Count == 0) yield break;
        var layout = await LoadLayoutAsync(fileId);
        var db = Db;
        var next = 0;
        while (next < ascendingIndexes.Count)
        {
            ct.ThrowIfCancellationRequested();
            var first = ascendingIndexes[next];
            if (first < 0 || first >= layout.Lines) throw new ArgumentOutOfRangeException(nameof(ascendingIndexes), $"Line {first} is outside file {fileId}.");
            var segment = layout.SegmentOf(first);
            var (segmentStart, segmentEnd) = layout.LinesOf(segment);
            var last = next;
            while (last + 1 < ascendingIndexes.Count && ascendingIndexes[last + 1] < segmentEnd) last++;
            var lastIndex = ascendingIndexes[last];
            var dataTask = db.ListGetByIndexAsync(RedisKeys.FileData(fileId), segment);
            var lensTask = db.StringGetRangeAsync(RedisKeys.FileLineLengths(fileId), segmentStart * 4, (lastIndex + 1) * 4 - 1);
            ReadOnlyMemory<byte> data = await dataTask;
            ReadOnlyMemory<byte> lens = await lensTask;
            var offset = 0;
            var line = segmentStart;
            for (var n = next; n <= last; n++)
            {
                var wanted = ascendingIndexes[n];
                if (wanted < line) throw new ArgumentException("Line indexes must be ascending.", nameof(ascendingIndexes));
                for (; line < wanted; line++) offset += LengthAt(lens, line - segmentStart) + 1;
                yield return (wanted, data.Slice(offset, LengthAt(lens, wanted - segmentStart)));
            }
            next = last + 1;
        }
    }

    public async IAsyncEnumerable<int> ReadLineLengthsAsync(
        string fileId, long firstLine, long count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLine);
        var db = Db;
        var end = firstLine + count;
        for (var line = firstLine; line < end; line += LengthsPerRead)
        {
            ct.ThrowIfCancellationRequested();
            var stop = Math.Min(end, line + LengthsPerRead);
            ReadOnlyMemory<byte> lens = await db.StringGetRangeAsync(RedisKeys.FileLineLengths(fileId), line * 4, stop * 4 - 1);
            for (var i = 0; i + 4 <= lens.Length; i += 4)
                yield return (int)BinaryPrimitives.ReadUInt32LittleEndian(lens.Span[i..]);
            if (lens.Length < (stop - line) * 4) yield break;   // past the last line
        }
    }

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadContentAsync(string fileId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var db = Db;
        var key = RedisKeys.FileData(fileId);
        var segments = await db.ListLengthAsync(key);
        Task<RedisValue>? prefetched = null;
        for (long i = 0; i < segments; i++)
        {
            ct.ThrowIfCancellationRequested();
            var current = prefetched ?? db.ListGetByIndexAsync(key, i);
            prefetched = i + 1 < segments ? db.ListGetByIndexAsync(key, i + 1) : null;
            ReadOnlyMemory<byte> segment = await current;
            yield return segment;
        }
    }

    public async Task<FilePage?> ListAsync(string tenant, string? purpose, int limit, bool ascending, string? after, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var db = Db;
        var key = RedisKeys.TenantFiles(tenant);
        double? cursor = null;
        if (after is not null)
        {
            cursor = await db.SortedSetScoreAsync(key, after);
            if (cursor is null) return null;
        }

        var page = new List<StoredFile>(Math.Min(limit, 1000));
        var take = Math.Clamp(limit + 1, 16, 1000);
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var entries = ascending
                ? await db.SortedSetRangeByScoreWithScoresAsync(key, cursor ?? double.NegativeInfinity, double.PositiveInfinity,
                    cursor is null ? Exclude.None : Exclude.Start, Order.Ascending, 0, take)
                : await db.SortedSetRangeByScoreWithScoresAsync(key, double.NegativeInfinity, cursor ?? double.PositiveInfinity,
                    cursor is null ? Exclude.None : Exclude.Stop, Order.Descending, 0, take);
            if (entries.Length == 0) return new FilePage(page, false);

            var lookups = entries.Select(e => db.HashGetAsync(RedisKeys.File((string)e.Element!), FileHashFields)).ToArray();
            for (var i = 0; i < entries.Length; i++)
            {
                var file = Parse((string)entries[i].Element!, await lookups[i]);
                if (file is null || file.Tenant != tenant || IsExpired(file) || (purpose is not null && file.Purpose != purpose)) continue;
                if (page.Count == limit) return new FilePage(page, true);
                page.Add(file);
            }
            if (entries.Length < take) return new FilePage(page, false);
            cursor = entries[^1].Score;
        }
    }

    public async Task<bool> DeleteAsync(string tenant, string fileId, CancellationToken ct = default)
    {
        if (!IsFileId(fileId)) return false;
        RedisKey[] keys =
        [
            RedisKeys.File(fileId), RedisKeys.FileData(fileId), RedisKeys.FileLineLengths(fileId),
            RedisKeys.FileSegments(fileId), RedisKeys.TenantFiles(tenant), RedisKeys.ExpiringFiles,
        ];
        var deleted = await Db.ScriptEvaluateAsync(DeleteScript.ExecutableScript, keys, [tenant, fileId]);
        return (long)deleted == 1;
    }

    public async Task<IReadOnlyList<string>> DeleteExpiredAsync(DateTimeOffset expiredBefore, int max, CancellationToken ct = default)
    {
        var expired = await Db.SortedSetRangeByScoreAsync(RedisKeys.ExpiringFiles, double.NegativeInfinity,
            expiredBefore.ToUnixTimeSeconds(), Exclude.Stop, take: max);
        var deleted = new List<string>(expired.Length);
        foreach (var id in expired)
        {
            ct.ThrowIfCancellationRequested();
            var fileId = (string)id!;
            // The owner is read first so the delete script names every key it touches; it checks the owner again.
            if (await Db.HashGetAsync(RedisKeys.File(fileId), FileFields.Tenant) is { IsNull: false } tenant
                && await DeleteAsync(tenant!, fileId, ct))
            {
                deleted.Add(fileId);
            }
            else
            {
                await Db.SortedSetRemoveAsync(RedisKeys.ExpiringFiles, id);   // already deleted by its owner
            }
        }
        return deleted;
    }

    public async Task<FileAnalysis?> GetAnalysisAsync(string fileId, CancellationToken ct = default)
    {
        if (!IsFileId(fileId)) return null;
        var db = Db;
        var hash = (await db.HashGetAllAsync(RedisKeys.File(fileId))).ToDictionary(e => (string)e.Name!, e => e.Value);
        if (FileAnalysis.FromHash(hash) is { } stored) return stored;
        if (hash.GetValueOrDefault(FileFields.Purpose) != FilePurposes.Batch || !hash.TryGetValue(FileFields.MaxLineBytes, out var maxLineBytes))
            return null;

        var analysis = await new FileAnalyzer(this, fileId, (long)hash[FileFields.Lines], (int)maxLineBytes).AnalyzeAsync(ct);
        // Two first batches on one file may both analyse it: they store the same fields.
        await db.ScriptEvaluateAsync(StoreAnalysisScript.ExecutableScript, [RedisKeys.File(fileId)],
            [.. analysis.ToHashEntries().SelectMany(e => new[] { e.Name, e.Value })]);
        return analysis;
    }

    /// <summary>True for ids of the form the store hands out, so a crafted id never names another key.</summary>
    public static bool IsFileId(string? fileId) =>
        fileId is { Length: > 5 and <= 64 } && fileId.StartsWith("file-", StringComparison.Ordinal)
        && fileId.AsSpan(5).IndexOfAnyExcept(OpaqueIds.Characters) < 0;

    private bool IsExpired(StoredFile file) =>
        file.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow().ToUnixTimeSeconds();

    private static StoredFile? Parse(string fileId, RedisValue[] v)
    {
        if (v[0].IsNull) return null;
        return new StoredFile(fileId, v[0]!, v[1]!, v[2]!, (long)v[3], (long)v[4], v[5].IsNull ? null : (long)v[5], (long)v[6]);
    }

    private static int LengthAt(ReadOnlyMemory<byte> lens, long index) =>
        (int)BinaryPrimitives.ReadUInt32LittleEndian(lens.Span[(int)(index * 4)..]);

    private async Task<FileLayoutIndex> LoadLayoutAsync(string fileId)
    {
        var db = Db;
        var segs = db.StringGetAsync(RedisKeys.FileSegments(fileId));
        var lines = db.HashGetAsync(RedisKeys.File(fileId), FileFields.Lines);
        var linesValue = await lines;
        if (linesValue.IsNull) throw new InvalidOperationException($"File {fileId} does not exist.");
        return new FileLayoutIndex((byte[]?)await segs ?? [], (long)linesValue);
    }

    /// <summary>The segment index of a file: segment k holds lines [first(k), first(k+1)).</summary>
    private sealed class FileLayoutIndex(byte[] segs, long lines)
    {
        public long Lines { get; } = lines;

        private int Count => segs.Length / 4;

        private long First(int segment) => BinaryPrimitives.ReadUInt32LittleEndian(segs.AsSpan(segment * 4));

        /// <summary>The last segment whose first line is at or before <paramref name="line"/>.</summary>
        public int SegmentOf(long line)
        {
            int lo = 0, hi = Count - 1;
            while (lo < hi)
            {
                var mid = (lo + hi + 1) / 2;
                if (First(mid) <= line) lo = mid; else hi = mid - 1;
            }
            return lo;
        }

        public (long Start, long End) LinesOf(int segment) =>
            (First(segment), segment + 1 < Count ? First(segment + 1) : Lines);
    }
}
