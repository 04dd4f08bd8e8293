using Microsoft.Extensions.Options;

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

/// <summary>Prices jobs from <see cref="PricingOptions"/>.</summary>
public sealed class PriceTable(IOptions<PricingOptions> options)
{
    private readonly PricingOptions _options = options.Value;

    /// <summary>The price of <paramref name="model"/>, by exact name or else its longest listed prefix.</summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrEmpty(model)) return null;
        if (_options.Models.TryGetValue(model, out var exact)) return exact;
        ModelPrice? best = null;
        var bestLength = 0;
        foreach (var (name, price) in _options.Models)
        {
            if (name.Length > bestLength && model.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                best = price;
                bestLength = name.Length;
            }
        }
        return best;
    }

    /// <summary>The cost of <paramref name="usage"/> on <paramref name="model"/>; null when the model has no price.</summary>
    public JobCost? Compute(string? model, TokenUsage usage)
    {
        if (Find(model) is not { } price) return null;
        var cached = Math.Min(usage.CachedTokens, usage.InputTokens);
        var standard = ((usage.InputTokens - cached) * price.InputPerMillion
                        + cached * (price.CachedInputPerMillion ?? price.InputPerMillion)
                        + usage.OutputTokens * price.OutputPerMillion) / 1_000_000d;
        return new JobCost(standard * _options.BatchDiscount, standard);
    }
}
