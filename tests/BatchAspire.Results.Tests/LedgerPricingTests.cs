using BatchAspire.Core.Pricing;
using BatchAspire.Core.Routing;
using BatchAspire.Results.Pricing;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Tests;

/// <summary>A routed job's cost: each provider's share at its own route prices, the job the sum.</summary>
public sealed class LedgerPricingTests
{
    private static PriceTable Table(string model, params RouteTarget[] route) =>
        new(Options.Create(new PricingOptions()), Options.Create(new RoutingOptions
        {
            Providers = new() { ["a"] = new NamedProvider(), ["b"] = new NamedProvider { Kind = ProviderKinds.Anthropic } },
            Routes = new() { [model] = [.. route] },
        }));

    [Fact]
    public void EachShareIsPricedAtItsProvidersRoutePricesAndTheJobIsTheSum()
    {
        var table = Table("m", new RouteTarget { Provider = "a", InputPerMillion = 1, OutputPerMillion = 2 },
            new RouteTarget { Provider = "b", InputPerMillion = 10, OutputPerMillion = 20 });

        var (ledger, total) = table.Compute("m",
            [new ProviderLedgerEntry("a", 3, 0, new TokenUsage(1_000_000, 0, 1_000_000, 0)), new ProviderLedgerEntry("b", 1, 0, new TokenUsage(500_000, 0, 0, 0))]);

        Assert.Equal([new JobCost(1.5, 3), new JobCost(2.5, 5)], ledger.Select(e => e.Cost!.Value));
        Assert.Equal(new JobCost(4, 8), total);
    }

    [Fact]
    public void AShareWithoutTokensCostsNothingAndAShareWithTokensButNoPriceLeavesTheJobUnpriced()
    {
        var table = Table("unlisted-model", new RouteTarget { Provider = "a", InputPerMillion = 1, OutputPerMillion = 2 }, new RouteTarget { Provider = "b" });

        var (_, withoutTokens) = table.Compute("unlisted-model",
            [new ProviderLedgerEntry("a", 1, 0, new TokenUsage(1_000_000, 0, 0, 0)), new ProviderLedgerEntry(ProviderLedger.DefaultProvider, 0, 2, default)]);
        var (ledger, withTokens) = table.Compute("unlisted-model",
            [new ProviderLedgerEntry("a", 1, 0, new TokenUsage(1_000_000, 0, 0, 0)), new ProviderLedgerEntry("b", 1, 0, new TokenUsage(10, 0, 10, 0))]);

        Assert.Equal(new JobCost(0.5, 1), withoutTokens);
        Assert.Null(withTokens);
        Assert.Null(ledger[1].Cost);
    }
}
