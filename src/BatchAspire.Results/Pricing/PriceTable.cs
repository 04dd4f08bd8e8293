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
        return FindInTable(model);
    }

    /// <summary>A model with a route: its jobs keep a cost ledger per provider.</summary>
    public bool IsRouted(string? model) => routing.Value.RouteOf(model) is not null;

    private ModelPrice? FindInTable(string? model)
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
    public JobCost? Compute(string? model, TokenUsage usage) => Find(model) is { } price ? Cost(price, usage) : null;

    /// <summary>
    /// The ledger of a routed model's job priced per provider: each at its own route prices, a provider whose step gives
    /// none (or that is not on the route any more) at the model's <c>Pricing</c> price. The job's cost is the sum; null
    /// when some provider's share has no price.
    /// </summary>
    public (IReadOnlyList<ProviderLedgerEntry> Ledger, JobCost? Total) Compute(string? model, IReadOnlyList<ProviderLedgerEntry> ledger)
    {
        var route = routing.Value.RouteOf(model);
        var priced = new List<ProviderLedgerEntry>(ledger.Count);
        double batch = 0, standard = 0;
        var complete = true;
        foreach (var entry in ledger)
        {
            var step = route?.FirstOrDefault(s => s.Provider == entry.Provider);
            var price = step is { InputPerMillion: { } input, OutputPerMillion: { } output }
                ? new ModelPrice { InputPerMillion = input, CachedInputPerMillion = step.CachedInputPerMillion, OutputPerMillion = output }
                : FindInTable(model);
            // A share without tokens (requests failed before they reached a provider) costs nothing, priced or not.
            var cost = price is not null ? Cost(price, entry.Usage)
                : entry.Usage is { InputTokens: 0, OutputTokens: 0 } ? new JobCost(0, 0) : (JobCost?)null;
            priced.Add(entry with { Cost = cost });
            if (cost is { } c)
            {
                batch += c.BatchUsd;
                standard += c.StandardUsd;
            }
            else
            {
                complete = false;
            }
        }
        return (priced, complete && priced.Count > 0 ? new JobCost(batch, standard) : null);
    }

    private JobCost Cost(ModelPrice price, TokenUsage usage)
    {
        var cached = Math.Min(usage.CachedTokens, usage.InputTokens);
        var standard = ((usage.InputTokens - cached) * price.InputPerMillion
                        + cached * (price.CachedInputPerMillion ?? price.InputPerMillion)
                        + usage.OutputTokens * price.OutputPerMillion) / 1_000_000d;
        return new JobCost(standard * _options.BatchDiscount, standard);
    }
}
