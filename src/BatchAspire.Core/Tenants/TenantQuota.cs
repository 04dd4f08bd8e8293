using System.Globalization;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Tenants;

/// <summary>
/// What one tenant may hold at once (docs/architecture.md, "Quotas"). Null means no limit (in configuration, null
/// means "as the default" and a negative value no limit: see <see cref="QuotaOptions"/>). Storage limits are checked
/// when a file is committed and open-work limits when a batch is created, inside the script that writes it, so
/// concurrent requests cannot pass a limit together and a refused request writes nothing.
/// </summary>
public sealed record TenantQuota
{
    /// <summary>Bytes of all the tenant's stored files (uploads and the output and error files of its batches).</summary>
    public long? MaxStoredBytes { get; set; }

    /// <summary>Number of the tenant's stored files.</summary>
    public long? MaxFiles { get; set; }

    /// <summary>Batches created and not yet ended (validating, in progress, finalizing, cancelling).</summary>
    public long? MaxOpenBatches { get; set; }

    /// <summary>Requests of the tenant's open batches: requests that have no final answer yet.</summary>
    public long? MaxPendingRequests { get; set; }

    public static readonly TenantQuota Unlimited = new();
}

/// <summary>
/// Quotas as configured: <see cref="Default"/> for every tenant, and per tenant (<see cref="Tenants"/>) the limits that
/// differ; a limit a tenant's entry leaves out is the default's, and a negative one is no limit.
/// </summary>
public sealed class QuotaOptions
{
    public TenantQuota Default { get; set; } = new()
    {
        MaxStoredBytes = 100L * 1024 * 1024 * 1024,
        MaxFiles = 10_000,
        MaxOpenBatches = 1_000,
        MaxPendingRequests = 50_000_000,
    };

    public Dictionary<string, TenantQuota> Tenants { get; set; } = new(StringComparer.Ordinal);

    public TenantQuota For(string tenant)
    {
        var own = Tenants.GetValueOrDefault(tenant);
        static long? Limit(long? value) => value is < 0 ? null : value;
        return new TenantQuota
        {
            MaxStoredBytes = Limit(own?.MaxStoredBytes ?? Default.MaxStoredBytes),
            MaxFiles = Limit(own?.MaxFiles ?? Default.MaxFiles),
            MaxOpenBatches = Limit(own?.MaxOpenBatches ?? Default.MaxOpenBatches),
            MaxPendingRequests = Limit(own?.MaxPendingRequests ?? Default.MaxPendingRequests),
        };
    }
}

/// <summary>Which limit of a <see cref="TenantQuota"/>.</summary>
public enum QuotaLimit { StoredBytes, Files, OpenBatches, PendingRequests }

/// <summary>
/// A request would take the tenant past <paramref name="Limit"/>; nothing of it was kept. <paramref name="Used"/> is
/// what the tenant holds now, <paramref name="Requested"/> what the request would add.
/// </summary>
public sealed class QuotaExceededException(QuotaLimit limit, long max, long used, long requested)
    : Exception(Describe(limit, max, used, requested))
{
    public QuotaLimit Limit { get; } = limit;

    public long Max { get; } = max;

    public long Used { get; } = used;

    private static string Describe(QuotaLimit limit, long max, long used, long requested) => limit switch
    {
        QuotaLimit.StoredBytes => string.Create(CultureInfo.InvariantCulture,
            $"Storage quota exceeded: this organization may store at most {max} bytes of files and stores {used}; this upload needs {requested} more. Delete files to make room."),
        QuotaLimit.Files => string.Create(CultureInfo.InvariantCulture,
            $"File quota exceeded: this organization may store at most {max} files and stores {used}. Delete files to make room."),
        QuotaLimit.OpenBatches => string.Create(CultureInfo.InvariantCulture,
            $"Open batch quota exceeded: this organization may have at most {max} batches in progress and has {used}. Try again once some have finished."),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"Pending request quota exceeded: this organization may have at most {max} requests in progress and has {used}; this batch adds {requested}. Try again once some batches have finished."),
    };
}

/// <summary>
/// The tenant's usage counters, <c>ba:tenant:{tenant}:usage</c>: a hash changed only by the scripts that commit or
/// delete a file and create or end a batch, in the same step as the record they write, through the functions of
/// <c>Redis/Lua/lib/tenant.lua</c> (which also check the limits, as <c>tenant_over</c>).
/// </summary>
public static class TenantUsage
{
    public const string StoredBytes = "bytes";
    public const string Files = "files";
    public const string OpenBatches = "open_batches";
    public const string PendingRequests = "pending_requests";

    /// <summary>The limit as a script argument: -1 for none.</summary>
    public static RedisValue Arg(long? max) => max ?? -1;

    public static async Task<IReadOnlyDictionary<string, long>> ReadAsync(IDatabase db, string tenant)
    {
        var entries = await db.HashGetAllAsync(RedisKeys.TenantUsage(tenant));
        return entries.ToDictionary(e => (string)e.Name!, e => (long)e.Value);
    }
}
