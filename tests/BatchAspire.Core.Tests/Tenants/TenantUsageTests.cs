using System.Text.RegularExpressions;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Tenants;

/// <summary>lib/tenant.lua, the one writer of a tenant's usage counters.</summary>
public sealed partial class TenantUsageTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public void EveryLimitTheLibraryReportsIsAQuotaLimit()
    {
        var library = RedisScript.Source(typeof(RedisScript).Assembly, "lib/tenant");
        var reported = ReportedLimit().Matches(library).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(4, reported.Count);
        Assert.All(reported, name => Assert.True(Enum.TryParse<QuotaLimit>(name, out _), $"lib/tenant.lua reports '{name}', which is no QuotaLimit"));
    }

    [Fact]
    public async Task ABatchClosedAfterItOpenedLeavesTheTenantWithNoOpenWork()
    {
        var script = RedisScript.Inline("""
            --#include lib/tenant.lua
            local limit = tenant_open_batch(KEYS[1], ARGV[1], -1, -1)
            tenant_close_batch(KEYS[1], ARGV[1])
            return limit and 1 or 0
            """).Text;
        var key = "test:usage:" + Guid.NewGuid().ToString("N");

        var refused = (long)await _redis.Db.ScriptEvaluateAsync(script, [key], [7]);

        Assert.Equal(0, refused);
        Assert.Equal(0, (long)await _redis.Db.HashGetAsync(key, TenantUsage.OpenBatches));
        Assert.Equal(0, (long)await _redis.Db.HashGetAsync(key, TenantUsage.PendingRequests));
    }

    [Fact]
    public async Task AFileThatWouldPassTheByteLimitIsRefusedAndNotCounted()
    {
        var script = RedisScript.Inline("""
            --#include lib/tenant.lua
            local limit, used = tenant_add_file(KEYS[1], ARGV[1], ARGV[2], -1)
            return {limit or '', used or 0}
            """).Text;
        var key = "test:usage:" + Guid.NewGuid().ToString("N");
        await _redis.Db.HashSetAsync(key, TenantUsage.StoredBytes, 90);

        var reply = (RedisResult[])(await _redis.Db.ScriptEvaluateAsync(script, [key], [20, 100]))!;

        Assert.Equal(nameof(QuotaLimit.StoredBytes), (string?)reply[0]);
        Assert.Equal(90, (long)reply[1]);
        Assert.Equal(90, (long)await _redis.Db.HashGetAsync(key, TenantUsage.StoredBytes));
        Assert.False(await _redis.Db.HashExistsAsync(key, TenantUsage.Files));
    }

    // return 'StoredBytes', used
    [GeneratedRegex(@"return '(\w+)', used")]
    private static partial Regex ReportedLimit();
}
