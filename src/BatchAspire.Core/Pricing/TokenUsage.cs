namespace BatchAspire.Core.Pricing;

/// <summary>Token counts of a job (or chunk), as the provider reports usage.</summary>
public readonly record struct TokenUsage(long InputTokens, long CachedTokens, long OutputTokens, long ReasoningTokens)
{
    public static TokenUsage operator +(TokenUsage a, TokenUsage b) =>
        new(a.InputTokens + b.InputTokens, a.CachedTokens + b.CachedTokens, a.OutputTokens + b.OutputTokens, a.ReasoningTokens + b.ReasoningTokens);
}

/// <summary>What a job cost at Batch API prices, and what the same tokens would cost at standard prices (USD).</summary>
public readonly record struct JobCost(double BatchUsd, double StandardUsd)
{
    public double SavingsUsd => StandardUsd - BatchUsd;
}
