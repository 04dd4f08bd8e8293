using BatchAspire.Core.Chunks;

namespace BatchAspire.Core.Tests.Chunks;

public sealed class ChunkPlanningTests
{
    private const long TwoHundredMiB = 200L * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FiftyThousandLinesMakeOneChunkAndOneMoreLineMakesTwo()
    {
        var exact = await ChunkPlanner.PlanAsync(Lengths(50_000, 100), 50_000, TwoHundredMiB, Ct);
        var over = await ChunkPlanner.PlanAsync(Lengths(50_001, 100), 50_000, TwoHundredMiB, Ct);

        Assert.Equal([new PlannedChunk(0, 50_000, 50_000L * 101)], exact);
        Assert.Equal([new PlannedChunk(0, 50_000, 50_000L * 101), new PlannedChunk(50_000, 1, 101)], over);
    }

    [Fact]
    public async Task TwoHundredMiBIncludingNewlinesFitOneChunkAndOneByteMoreSplits()
    {
        // 25,600 lines of 8,191 bytes plus '\n' are exactly 200 MiB.
        var exact = await ChunkPlanner.PlanAsync(Lengths(25_600, 8_191), 50_000, TwoHundredMiB, Ct);
        var longer = await ChunkPlanner.PlanAsync(Lengths(25_600, 8_192), 50_000, TwoHundredMiB, Ct);

        Assert.Equal([new PlannedChunk(0, 25_600, TwoHundredMiB)], exact);
        Assert.Equal(2, longer.Count);
        Assert.Equal(TwoHundredMiB / 8_193, longer[0].Count);
        Assert.True(longer[0].Bytes <= TwoHundredMiB);
        Assert.Equal(25_600, longer.Sum(c => c.Count));
    }

    [Fact]
    public async Task EmbeddingChunksAreCutWhereTheNextLineWouldPassTheInputCap()
    {
        // 2,001 requests of 25 inputs: 50,025 inputs, 25 more than one batch may hold.
        var lines = Enumerable.Range(0, 2_001).Select(_ => new PlannedLine(300, 25)).ToAsyncEnumerable();

        var plan = await ChunkPlanner.PlanAsync(lines, 50_000, TwoHundredMiB, 50_000, Ct);

        Assert.Equal([new PlannedChunk(0, 2_000, 2_000L * 301), new PlannedChunk(2_000, 1, 301)], plan);
    }

    [Fact]
    public async Task ALineWithMoreInputsThanTheCapGetsAChunkOfItsOwn()
    {
        PlannedLine[] lines = [new(10, 3), new(10, 9), new(10, 2)];

        var plan = await ChunkPlanner.PlanAsync(lines.ToAsyncEnumerable(), 50_000, TwoHundredMiB, 5, Ct);

        Assert.Equal([new PlannedChunk(0, 1, 11), new PlannedChunk(1, 1, 11), new PlannedChunk(2, 1, 11)], plan);
    }

    [Theory]
    [InlineData("""{"custom_id":"a","body":{"model":"m","input":"one text"}}""", 1)]
    [InlineData("""{"custom_id":"a","body":{"input":["a","b","c"],"model":"m"}}""", 3)]
    [InlineData("""{"custom_id":"a","body":{"model":"m","input":[101,102,103]}}""", 1)]
    [InlineData("""{"custom_id":"a","body":{"model":"m","input":[[101,102],[103],[104]]}}""", 3)]
    [InlineData("""{"custom_id":"a","body":{"nested":{"input":["x","y"]},"input":["a","b"]}}""", 2)]
    [InlineData("""not json""", 1)]
    public void EmbeddingInputsAreCountedAsTheBatchApiCountsThem(string line, int inputs) =>
        Assert.Equal(inputs, EmbeddingInputs.Count(System.Text.Encoding.UTF8.GetBytes(line)));

    [Fact]
    public async Task ChunksAreContiguousAndRespectBothLimits()
    {
        var lengths = Enumerable.Range(0, 10_000).Select(i => 50 + (i * 7919 % 400)).ToArray();
        var plan = await ChunkPlanner.PlanAsync(lengths.ToAsyncEnumerable(), 700, 60_000, Ct);

        long next = 0;
        foreach (var chunk in plan)
        {
            Assert.Equal(next, chunk.First);
            Assert.InRange(chunk.Count, 1, 700);
            Assert.InRange(chunk.Bytes, 1, 60_000);
            Assert.Equal(lengths.Skip((int)chunk.First).Take((int)chunk.Count).Sum(l => l + 1L), chunk.Bytes);
            next += chunk.Count;
        }
        Assert.Equal(10_000, next);
    }

    [Fact]
    public async Task ALineLongerThanTheByteLimitGetsAChunkOfItsOwn()
    {
        var plan = await ChunkPlanner.PlanAsync(new[] { 10, 500, 10 }.ToAsyncEnumerable(), 10, 100, Ct);

        Assert.Equal([new PlannedChunk(0, 1, 11), new PlannedChunk(1, 1, 501), new PlannedChunk(2, 1, 11)], plan);
    }

    private static async IAsyncEnumerable<int> Lengths(int count, int length)
    {
        for (var i = 0; i < count; i++) yield return length;
        await Task.CompletedTask;
    }
}
