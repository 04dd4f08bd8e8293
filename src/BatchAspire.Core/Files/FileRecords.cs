using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// The one C# writer of the file hash (<c>RedisKeys.File</c>): a file's commit, its analysis and its deletion, each one
/// script of <c>Redis/Lua/files/</c> that writes the hash through <c>lib/file.lua</c> and the tenant's usage through
/// <c>lib/tenant.lua</c> in the same step. Everything else reads files (docs/architecture.md, "Who writes each record").
/// </summary>
internal static class FileRecords
{
    private static readonly RedisScript CommitScript = RedisScript.Load("files/commit");
    private static readonly RedisScript AddAnalysisScript = RedisScript.Load("files/add_analysis");
    private static readonly RedisScript DeleteScript = RedisScript.Load("files/delete");

    /// <summary>
    /// Makes a written file visible once its blobs are committed (<c>files/commit.lua</c>); throws
    /// <see cref="QuotaExceededException"/>, changing nothing, when it would pass <paramref name="quota"/>.
    /// </summary>
    public static async Task CommitAsync(IDatabase db, string fileId, string tenant, LinePart part, IEnumerable<HashEntry> fields, TenantQuota quota)
    {
        var args = new List<RedisValue> { fileId, part.Prefix, part.Bytes, TenantUsage.Arg(quota.MaxStoredBytes), TenantUsage.Arg(quota.MaxFiles) };
        foreach (var f in fields) { args.Add(f.Name); args.Add(f.Value); }
        args.AddRange([FileFields.Segments, part.Segments, FileFields.Parts, LinePart.FormatAll([part])]);
        RedisKey[] keys =
        [
            RedisKeys.File(fileId), RedisKeys.Sequence, RedisKeys.TenantFiles(tenant), RedisKeys.ExpiringFiles, RedisKeys.BlobsToDelete,
            RedisKeys.TenantUsage(tenant),
        ];
        var reply = (RedisResult[])(await CommitScript.EvaluateAsync(db, keys, [.. args]))!;
        if ((string)reply[0]! == "over")
        {
            var limit = Enum.Parse<QuotaLimit>((string)reply[1]!);
            throw new QuotaExceededException(limit, limit == QuotaLimit.StoredBytes ? quota.MaxStoredBytes!.Value : quota.MaxFiles!.Value,
                (long)reply[2], limit == QuotaLimit.StoredBytes ? part.Bytes : 1);
        }
    }

    /// <summary>Stores a file's analysis on its hash unless the file has been deleted meanwhile.</summary>
    public static Task AddAnalysisAsync(IDatabase db, string fileId, FileAnalysis analysis) =>
        AddAnalysisScript.EvaluateAsync(db, [RedisKeys.File(fileId)], [.. analysis.ToHashEntries().SelectMany(e => new[] { e.Name, e.Value })]);

    /// <summary>
    /// Forgets one of the tenant's files, listing its blob prefixes for deletion due at <paramref name="nowMs"/> in the
    /// same step; returns its parts, or null when it is unknown or another tenant's.
    /// </summary>
    public static async Task<IReadOnlyList<LinePart>?> DeleteAsync(IDatabase db, string tenant, string fileId, long nowMs)
    {
        RedisKey[] keys = [RedisKeys.File(fileId), RedisKeys.TenantFiles(tenant), RedisKeys.ExpiringFiles, RedisKeys.BlobsToDelete, RedisKeys.TenantUsage(tenant)];
        var parts = await DeleteScript.EvaluateAsync(db, keys, tenant, fileId, nowMs);
        return parts.IsNull ? null : LinePart.ParseAll((string?)parts);
    }
}
