using BatchAspire.Core.Redis;

namespace BatchAspire.Core.Tests.Redis;

public sealed class ChunkIdTests
{
    [Fact]
    public void ChunkIdNamesItsJobAndNumber()
    {
        var chunkId = ChunkIds.Create("batch_abc.def", 12);

        Assert.Equal("batch_abc.def", ChunkIds.JobOf(chunkId));
        Assert.Equal(12, ChunkIds.NumberOf(chunkId));
    }

    [Fact]
    public void KeysOfOneJobShareItsHashTag()
    {
        var chunkId = ChunkIds.Create("batch_x1", 3);

        Assert.Equal("ba:{batch_x1}:job", (string)RedisKeys.Job("batch_x1")!);
        Assert.Equal("ba:{batch_x1}:chunk:3", (string)RedisKeys.Chunk(chunkId)!);
    }
}
