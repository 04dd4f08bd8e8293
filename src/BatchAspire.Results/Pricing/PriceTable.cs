using BatchAspire.Core.Pricing;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Pricing;

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
