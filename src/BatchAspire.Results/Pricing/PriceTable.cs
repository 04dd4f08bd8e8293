using BatchAspire.Core.Pricing;
using BatchAspire.Core.Routing;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Pricing;

/// <summary>Prices jobs from <see cref="PricingOptions"/>, or from a model's route where it gives prices.</summary>
public sealed class PriceTable(IOptions<PricingOptions> options, IOptions<RoutingOptions> routing)
{
    private readonly PricingOptions _options = options.Value;

    /// <summary>
    /// The price of <paramref name="model"/>: its route's first provider's prices when the route gives them (the provider
    /// its chunks go to first), else the <c>Pricing</c> table's, by exact name or else its longest listed prefix.
    /// </summary>
    public ModelPrice? Find(string? model)
    {
        if (string.IsNullOrEmpty(model)) return null;
        if (routing.Value.RouteOf(model) is [{ InputPerMillion: { } input, OutputPerMillion: { } output } first, ..])
            return new ModelPrice { InputPerMillion = input, CachedInputPerMillion = first.CachedInputPerMillion, OutputPerMillion = output };
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
