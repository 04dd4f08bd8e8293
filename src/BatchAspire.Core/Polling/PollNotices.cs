using StackExchange.Redis;

namespace BatchAspire.Core.Polling;

/// <summary>
/// A Redis pub/sub hint on <c>ba:poll:scheduled</c> that a chunk was just put on the poll schedule, so pollers that
/// are backing off while idle wake at once instead of at the end of their sleep. A hint only: pub/sub drops messages
/// to subscribers that are disconnected, so nothing may depend on it. A lost notice delays the chunk's first poll
/// by at most the pollers' <c>Poller:MaxIdleDelay</c>, because the schedule itself is the truth.
/// </summary>
public sealed class PollNotices(IConnectionMultiplexer redis)
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("ba:poll:scheduled");

    /// <summary>Tells idle pollers that <paramref name="chunkId"/> is scheduled. Never throws: a lost hint is allowed.</summary>
    public void Scheduled(string chunkId)
    {
        try
        {
            // Fire and forget: the submitter must not wait on, or fail because of, a hint.
            redis.GetSubscriber().Publish(Channel, chunkId, CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
        }
    }

    /// <summary>Calls <paramref name="handler"/> for every notice; the multiplexer subscribes again after a reconnect.</summary>
    public Task SubscribeAsync(Action<RedisChannel, RedisValue> handler) => redis.GetSubscriber().SubscribeAsync(Channel, handler);

    public Task UnsubscribeAsync(Action<RedisChannel, RedisValue> handler) => redis.GetSubscriber().UnsubscribeAsync(Channel, handler);
}
