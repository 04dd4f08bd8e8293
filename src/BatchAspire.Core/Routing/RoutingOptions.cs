using System.Text.RegularExpressions;

namespace BatchAspire.Core.Routing;

/// <summary>The kinds of provider BatchAspire can send a chunk to.</summary>
public static class ProviderKinds
{
    /// <summary>An OpenAI-compatible Files + Batches API (OpenAI itself, the Sandbox's OpenAI surface).</summary>
    public const string OpenAI = "openai";

    /// <summary>Anthropic's Message Batches API (lines translated, docs/providers.md).</summary>
    public const string Anthropic = "anthropic";

    /// <summary>
    /// An Azure OpenAI resource's Batch API on its v1 surface (<c>https://NAME.openai.azure.com/openai/v1</c>): OpenAI's
    /// Files + Batches calls with the <c>api-key</c> header, deployment names as models (docs/providers.md).
    /// </summary>
    public const string Azure = "azure";

    /// <summary>Kinds that speak OpenAI's Files + Batches API and read the uploaded lines as they are (but for the model name).</summary>
    public static bool IsOpenAICompatible(string kind) => kind is OpenAI or Azure;

    /// <summary>The most lines and bytes one batch of <paramref name="kind"/> may hold (each provider's documented caps).</summary>
    public static (int Lines, long Bytes) Caps(string kind) => kind switch
    {
        Anthropic => (100_000, 256L * 1000 * 1000),
        Azure => (100_000, 200L * 1000 * 1000),
        _ => (50_000, 200L * 1024 * 1024),
    };
}

/// <summary>One named provider (section <c>Providers:{name}</c>). <see cref="ApiKey"/> is a secret: only the SDK sees it.</summary>
public sealed class NamedProvider
{
    /// <summary><see cref="ProviderKinds.OpenAI"/>, <see cref="ProviderKinds.Azure"/> or <see cref="ProviderKinds.Anthropic"/>.</summary>
    public string Kind { get; set; } = ProviderKinds.OpenAI;

    /// <summary>
    /// The API root: for openai including <c>/v1</c> (<c>https://api.openai.com/v1</c>), for azure the resource's v1 surface
    /// (<c>https://NAME.openai.azure.com/openai/v1</c>), for anthropic without <c>/v1</c> (<c>https://api.anthropic.com</c>).
    /// Absent: the bundled Sandbox, which speaks all three.
    /// </summary>
    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    /// <summary>Most lines in one batch at this provider; defaults to the kind's cap (50,000 openai, 100,000 azure and anthropic).</summary>
    public int? MaxLinesPerChunk { get; set; }

    /// <summary>Most bytes of one chunk's lines at this provider; defaults to the kind's cap (200 MiB openai, 200 MB azure, 256 MB anthropic).</summary>
    public long? MaxBytesPerChunk { get; set; }

    public int LinesCap => MaxLinesPerChunk ?? ProviderKinds.Caps(Kind).Lines;

    public long BytesCap => MaxBytesPerChunk ?? ProviderKinds.Caps(Kind).Bytes;
}

/// <summary>One step of a model's route: the provider, the model name it knows, and its prices for the cost ledger.</summary>
public sealed class RouteTarget
{
    /// <summary>A name under <c>Providers</c>.</summary>
    public string Provider { get; set; } = "";

    /// <summary>
    /// The provider's own model name: for azure the deployment name. openai and azure providers are sent each line with
    /// <c>body.model</c> replaced by it (as it streams to the Files API); anthropic ones get it in the translation. Absent:
    /// the model the lines name, and the lines go out as they are.
    /// </summary>
    public string? Model { get; set; }

    /// <summary>Standard price in USD per million input tokens at this provider (the Batch discount applies, as for <c>Pricing</c>).</summary>
    public double? InputPerMillion { get; set; }

    public double? CachedInputPerMillion { get; set; }

    public double? OutputPerMillion { get; set; }
}

/// <summary>
/// Named providers (<c>Providers:{name}</c>) and the route table (<c>Routing:Routes:{model}</c> = an ordered list of
/// <see cref="RouteTarget"/>). A model without a route, and every model when nothing is configured, goes to the one
/// OpenAI-compatible provider of the <c>Provider</c> section, as before routing existed.
/// </summary>
public sealed partial class RoutingOptions
{
    public const string ProvidersSection = "Providers";
    public const string RoutesSection = "Routing:Routes";

    public Dictionary<string, NamedProvider> Providers { get; set; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<RouteTarget>> Routes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The route of <paramref name="model"/>, or null: the default provider.</summary>
    public IReadOnlyList<RouteTarget>? RouteOf(string? model) =>
        model is not null && Routes.TryGetValue(model, out var route) && route.Count > 0 ? route : null;

    /// <summary>The kind of the first provider of <paramref name="model"/>'s route (<see cref="ProviderKinds.OpenAI"/> without one).</summary>
    public string FirstKindOf(string? model) =>
        RouteOf(model) is [var first, ..] && Providers.TryGetValue(first.Provider, out var provider) ? provider.Kind : ProviderKinds.OpenAI;

    /// <summary>
    /// What is wrong with the table, naming settings and never values of keys. The provider endpoints and keys are
    /// checked where the providers are called (the workers); this checks what every service reads.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var failures = new List<string>();
        foreach (var (name, provider) in Providers)
        {
            var at = $"{ProvidersSection}:{name}";
            if (!ProviderName().IsMatch(name))
                failures.Add($"{at}: a provider name is 1 to 32 of a-z, 0-9, '_' or '-'.");
            if (provider.Kind is not (ProviderKinds.OpenAI or ProviderKinds.Azure or ProviderKinds.Anthropic))
            {
                failures.Add($"{at}:Kind must be '{ProviderKinds.OpenAI}', '{ProviderKinds.Azure}' or '{ProviderKinds.Anthropic}'.");
                continue;
            }
            var (lines, bytes) = ProviderKinds.Caps(provider.Kind);
            if (provider.MaxLinesPerChunk is { } l && (l < 1 || l > lines))
                failures.Add($"{at}:MaxLinesPerChunk must be between 1 and {lines} for a provider of kind '{provider.Kind}'.");
            if (provider.MaxBytesPerChunk is { } b && (b < 2 || b > bytes))
                failures.Add($"{at}:MaxBytesPerChunk must be between 2 and {bytes} for a provider of kind '{provider.Kind}'.");
            if (provider.BaseUrl is { Length: > 0 } url &&
                (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
                failures.Add($"{at}:BaseUrl must be an absolute http(s) URL.");
        }
        foreach (var (model, route) in Routes)
        {
            var at = $"{RoutesSection}:{model}";
            if (route.Count == 0) failures.Add($"{at} must list at least one provider.");
            for (var i = 0; i < route.Count; i++)
            {
                var target = route[i];
                if (!Providers.ContainsKey(target.Provider))
                    failures.Add($"{at}:{i}:Provider must name a provider configured under {ProvidersSection} ('{Shorten(target.Provider)}' is not).");
                if (target.Model is { } name && string.IsNullOrWhiteSpace(name))
                    failures.Add($"{at}:{i}:Model must not be blank (leave it out to send the lines' model).");
                if (target.InputPerMillion < 0 || target.CachedInputPerMillion < 0 || target.OutputPerMillion < 0)
                    failures.Add($"{at}:{i}: prices must not be negative.");
                if (target.InputPerMillion is null != target.OutputPerMillion is null)
                    failures.Add($"{at}:{i}: give both InputPerMillion and OutputPerMillion, or neither.");
            }
        }
        return failures;
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";

    [GeneratedRegex("^[a-z0-9_-]{1,32}$")]
    private static partial Regex ProviderName();
}
