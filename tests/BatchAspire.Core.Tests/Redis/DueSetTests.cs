using BatchAspire.Core.Redis;
using BatchAspire.Testing;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Redis;

public sealed class DueSetTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private IDatabase Db => _redis.Db;

    private DueSet NewSet(out RedisKey key)
    {
        key = "test:due:" + Guid.NewGuid().ToString("N");
        return new DueSet(_redis.Multiplexer, key);
    }

    private async Task<long> ServerNowAsync()
    {
        var time = await Db.ExecuteAsync("TIME");
        var parts = (RedisValue[])time!;
        return (long)parts[0] * 1000 + (long)parts[1] / 1000;
    }

    [Fact]
    public async Task AClaimTakesOnlyWhatIsDueAndHidesItForTheLease()
    {
        var set = NewSet(out var key);
        var now = await ServerNowAsync();
        await Db.SortedSetAddAsync(key, [new("a", now - 1_000), new("b", now - 10), new("later", now + 60_000)]);

        var claim = await set.ClaimAsync(10, TimeSpan.FromMinutes(1));

        Assert.Equal(["a", "b"], claim.Members.Select(m => m.Id));
        Assert.Equal(now - 1_000, claim.Members[0].DueAtMs);
        Assert.Empty((await set.ClaimAsync(10, TimeSpan.FromMinutes(1))).Members);
        var leasedUntil = (await Db.SortedSetScoreAsync(key, "a"))!.Value;
        Assert.InRange(leasedUntil, claim.NowMs + 60_000, claim.NowMs + 60_000);
    }

    [Fact]
    public async Task AnIdWhoseLeaseLapsedIsDueAgain()
    {
        var set = NewSet(out var key);
        await Db.SortedSetAddAsync(key, "a", await ServerNowAsync() - 5);

        Assert.Single((await set.ClaimAsync(10, TimeSpan.FromMilliseconds(50))).Members);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        Assert.Equal("a", Assert.Single((await set.ClaimAsync(10, TimeSpan.FromMinutes(1))).Members).Id);
    }

    [Fact]
    public async Task AClaimTakesAtMostMaxAndSaysWhenTheNextIsDue()
    {
        var set = NewSet(out var key);
        var now = await ServerNowAsync();
        await Db.SortedSetAddAsync(key, [.. Enumerable.Range(0, 5).Select(i => new SortedSetEntry($"m{i}", now - 100 + i))]);

        var first = await set.ClaimAsync(3, TimeSpan.FromSeconds(30));

        Assert.Equal(["m0", "m1", "m2"], first.Members.Select(m => m.Id));
        Assert.Equal(now - 100 + 3, first.NextDueMs);
        var empty = await NewSet(out _).ClaimAsync(3, TimeSpan.FromSeconds(30));
        Assert.Null(empty.NextDueMs);
    }

    [Fact]
    public async Task ConcurrentClaimersNeverTakeTheSameId()
    {
        var set = NewSet(out var key);
        var now = await ServerNowAsync();
        await Db.SortedSetAddAsync(key, [.. Enumerable.Range(0, 2_000).Select(i => new SortedSetEntry($"m{i}", now - 1))]);

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            var taken = new List<string>();
            while ((await set.ClaimAsync(37, TimeSpan.FromMinutes(5))).Members is { Count: > 0 } members) taken.AddRange(members.Select(m => m.Id));
            return taken;
        }));

        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(2_000, all.Count);
        Assert.Equal(2_000, all.Distinct().Count());
    }

    [Fact]
    public async Task ACallerWithItsOwnClockClaimsWhatIsOlderThanItsBoundAndLeasesFromItsNow()
    {
        var set = NewSet(out var key);
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_000_000_000);
        await Db.SortedSetAddAsync(key, [new("old", now.AddMinutes(-10).ToUnixTimeMilliseconds()), new("young", now.AddSeconds(-10).ToUnixTimeMilliseconds())]);

        var claim = await set.ClaimAsync(10, TimeSpan.Zero, now, dueBefore: now.AddMinutes(-1));

        Assert.Equal("old", Assert.Single(claim.Members).Id);
        Assert.Equal(now.ToUnixTimeMilliseconds(), claim.NowMs);
        Assert.Equal(now.ToUnixTimeMilliseconds(), await Db.SortedSetScoreAsync(key, "old"));
    }

    [Fact]
    public async Task AClaimWithAQuietBoundTakesOnlyMembersQuietThatLongAndCountsTheClaimAsLife()
    {
        var set = NewSet(out var key);
        var now = await ServerNowAsync();
        await Db.SortedSetAddAsync(key, [new("quiet", now - 60_000), new("lively", now - 1_000)]);

        var claim = await set.ClaimAsync(10, TimeSpan.Zero, quietFor: TimeSpan.FromSeconds(30));

        Assert.Equal("quiet", Assert.Single(claim.Members).Id);
        Assert.InRange((await Db.SortedSetScoreAsync(key, "quiet"))!.Value, claim.NowMs, claim.NowMs);
        // Another claimer (another replica) right after finds it quiet no longer.
        Assert.Empty((await set.ClaimAsync(10, TimeSpan.Zero, quietFor: TimeSpan.FromSeconds(30))).Members);
    }
}
