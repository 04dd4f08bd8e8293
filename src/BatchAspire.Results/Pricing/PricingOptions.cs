namespace BatchAspire.Results.Pricing;

/// <summary>
/// Standard (synchronous API) prices per model, in USD per million tokens, and the Batch API's discount
/// (section <c>Pricing</c>). Configuration adds models or overrides the defaults below:
/// <c>Pricing:Models:gpt-5-nano:InputPerMillion=0.05</c>.
/// </summary>
public sealed class PricingOptions
{
    public const string SectionName = "Pricing";

    /// <summary>Fraction of the standard price the Batch API charges (0.5: half price).</summary>
    public double BatchDiscount { get; set; } = 0.5;

    /// <summary>Keyed by model name; a dated model (<c>gpt-5-nano-2025-08-07</c>) takes the price of its longest listed prefix.</summary>
    public Dictionary<string, ModelPrice> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-5"] = new() { InputPerMillion = 1.25, CachedInputPerMillion = 0.125, OutputPerMillion = 10.00 },
        ["gpt-5-mini"] = new() { InputPerMillion = 0.25, CachedInputPerMillion = 0.025, OutputPerMillion = 2.00 },
        ["gpt-5-nano"] = new() { InputPerMillion = 0.05, CachedInputPerMillion = 0.005, OutputPerMillion = 0.40 },
        ["gpt-4.1"] = new() { InputPerMillion = 2.00, CachedInputPerMillion = 0.50, OutputPerMillion = 8.00 },
        ["gpt-4.1-mini"] = new() { InputPerMillion = 0.40, CachedInputPerMillion = 0.10, OutputPerMillion = 1.60 },
        ["gpt-4.1-nano"] = new() { InputPerMillion = 0.10, CachedInputPerMillion = 0.025, OutputPerMillion = 0.40 },
        ["gpt-4o"] = new() { InputPerMillion = 2.50, CachedInputPerMillion = 1.25, OutputPerMillion = 10.00 },
        ["gpt-4o-mini"] = new() { InputPerMillion = 0.15, CachedInputPerMillion = 0.075, OutputPerMillion = 0.60 },
        ["text-embedding-3-small"] = new() { InputPerMillion = 0.02, OutputPerMillion = 0 },
        ["text-embedding-3-large"] = new() { InputPerMillion = 0.13, OutputPerMillion = 0 },
        ["omni-moderation-latest"] = new() { InputPerMillion = 0, OutputPerMillion = 0 },
    };
}

/// <summary>Standard prices of one model, USD per million tokens.</summary>
public sealed class ModelPrice
{
    public double InputPerMillion { get; set; }

    /// <summary>Cached input tokens; when absent they cost as much as other input tokens.</summary>
    public double? CachedInputPerMillion { get; set; }

    public double OutputPerMillion { get; set; }
}
