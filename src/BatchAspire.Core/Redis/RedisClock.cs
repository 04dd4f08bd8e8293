using StackExchange.Redis;

namespace BatchAspire.Core.Redis;

/// <summary>
/// The Redis server's clock, the one every script reads (<c>lib/clock.lua</c>): due times, leases and creation times
/// are in it, so a reader on another host measures lag and age against it, not against its own, possibly skewed, clock.
/// </summary>
public static class RedisClock
{
    public static async Task<DateTimeOffset> NowAsync(this IDatabaseAsync db)
    {
        var time = (RedisResult[])(await db.ExecuteAsync("TIME"))!;
        return DateTimeOffset.FromUnixTimeMilliseconds((long)time[0] * 1000 + (long)time[1] / 1000);
    }
}
