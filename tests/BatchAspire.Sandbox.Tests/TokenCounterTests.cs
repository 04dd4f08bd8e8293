using BatchAspire.Sandbox.Executors;

namespace BatchAspire.Sandbox.Tests;

/// <summary>The token-count cache keeps what repeats and nothing else.</summary>
public sealed class TokenCounterTests
{
    [Fact]
    public void AStringSeenOnceIsCountedButNotCached()
    {
        var tokens = new TokenCounter();
        for (var i = 0; i < 1_000; i++) Assert.True(tokens.Count($"Review {i}: the product was fine, shipping took {i % 7} days.") > 0);
        Assert.Equal(0, tokens.CachedCount);
    }

    [Fact]
    public void AStringSeenAgainIsCachedWithTheSameCount()
    {
        var tokens = new TokenCounter();
        const string system = "You are a helpful assistant that labels the sentiment of product reviews.";
        var first = tokens.Count(system);
        Assert.Equal(0, tokens.CachedCount);

        Assert.Equal(first, tokens.Count(system.AsSpan()));
        Assert.Equal(1, tokens.CachedCount);
        Assert.Equal(first, tokens.Count(system));
    }

    [Fact]
    public void FitUsesAKnownCountAndStillCutsALongText()
    {
        var tokens = new TokenCounter();
        const string text = "one two three four five six seven eight nine ten";
        var count = tokens.Count(text);
        Assert.Equal((text.Length, count), tokens.Fit(text, count, knownCount: count));
        var (length, cut) = tokens.Fit(text, 3, knownCount: count);
        Assert.Equal(3, cut);
        Assert.True(length < text.Length);
    }
}
