using System.Runtime.CompilerServices;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// <see cref="IFileStore"/> with metadata in Redis and payload in the blob store (layout in docs/architecture.md):
/// a file's hash names its <see cref="LinePart"/>s, which <see cref="LinePartReader"/> reads. It writes the hash only
/// through <see cref="FileRecords"/>.
/// </summary>
public sealed class RedisFileStore(IConnectionMultiplexer redis, IBlobStore blobs, TimeProvider time) : IFileStore
{
    private readonly LinePartReader _reader = new(blobs);
    private readonly BlobDeletions _deletions = new(redis, blobs, time);

    private static readonly RedisValue[] FileHashFields =
    [
        FileFields.Tenant, FileFields.Filename, FileFields.Purpose, FileFields.Bytes,
        FileFields.CreatedAt, FileFields.ExpiresAt, FileFields.Lines,
    ];

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
        new(Db, blobs, _deletions, tenant, filename, purpose, expiresAt, time);

    public FileUpload BeginUpload(string tenant, FileUploadLimits limits) => new(Db, blobs, _deletions, tenant, limits, time);

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadLinesAsync(
        string fileId, long firstLine, long count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLine);
        if (count <= 0) yield break;
        await foreach (var line in _reader.ReadLinesAsync(await LoadPartsAsync(fileId), firstLine, count, ct: ct)) yield return line.Bytes;
    }

    public async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> ReadLinesAsync(
        string fileId, IReadOnlyList<long> ascendingIndexes, [EnumeratorCancellation] CancellationToken ct = default)
    {
        if (ascendingIndexes.Count == 0) yield break;
        await foreach (var line in _reader.ReadLinesAsync(await LoadPartsAsync(fileId), ascendingIndexes, ct)) yield return line;
    }

    public async IAsyncEnumerable<int> ReadLineLengthsAsync(
        string fileId, long firstLine, long count, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstLine);
        await foreach (var length in _reader.ReadLineLengthsAsync(await LoadPartsAsync(fileId), firstLine, count, ct)) yield return length;
    }

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadContentAsync(string fileId, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var bytes in _reader.ReadContentAsync(await LoadPartsAsync(fileId), ct)) yield return bytes;
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
        var parts = await FileRecords.DeleteAsync(Db, tenant, fileId, time.GetUtcNow().ToUnixTimeMilliseconds());
        if (parts is null) return false;
        // Listed already: a failure here leaves the blobs to the sweep.
        try
        {
            await _deletions.DeleteAsync(parts.Select(p => p.Prefix), ct);
        }
        catch (Exception e) when (e is BlobStoreUnavailableException or IOException or RedisException)
        {
        }
        return true;
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

        var parts = LinePart.ParseAll(hash.GetValueOrDefault(FileFields.Parts));
        var analysis = await new FileAnalyzer(_reader, parts, fileId, (long)hash[FileFields.Lines], (int)maxLineBytes).AnalyzeAsync(ct);
        // Two first batches on one file may both analyse it: they store the same fields.
        await FileRecords.AddAnalysisAsync(db, fileId, analysis);
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

    private async Task<IReadOnlyList<LinePart>> LoadPartsAsync(string fileId)
    {
        var parts = await Db.HashGetAsync(RedisKeys.File(fileId), FileFields.Parts);
        if (parts.IsNull) throw new InvalidOperationException($"File {fileId} does not exist.");
        return LinePart.ParseAll(parts);
    }
}
