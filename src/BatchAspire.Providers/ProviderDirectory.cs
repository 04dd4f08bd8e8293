using System.ClientModel;
using System.ClientModel.Primitives;
using BatchAspire.Contracts;
using BatchAspire.Core.Routing;
using BatchAspire.Providers.MessageBatches;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OpenAI;

namespace BatchAspire.Providers;

/// <summary>
/// One provider a chunk can go to: the default one (section <c>Provider</c>, <see cref="Name"/> null) or a routed one
/// (<c>Providers:{name}</c>). An openai or azure provider has the Files + Batches clients, an anthropic one the Message
/// Batches client.
/// </summary>
public sealed class RoutedProvider
{
    /// <summary>The name under <c>Providers</c>; null for the default provider.</summary>
    public string? Name { get; init; }

    public required string Kind { get; init; }

    /// <summary>Caps of a routed provider; the default provider's come from the submitter's settings, as before routing.</summary>
    public NamedProvider? Settings { get; init; }

    public ProviderBatchCommands? Commands { get; init; }

    public ProviderBatches? Batches { get; init; }

    public AnthropicBatchClient? Anthropic { get; init; }

    public bool IsAnthropic => Kind == ProviderKinds.Anthropic;

    /// <summary>
    /// The <c>endpoint</c> a batch create names for lines of <paramref name="jobEndpoint"/> (<c>/v1/chat/completions</c>):
    /// Azure's Batch guide creates with <c>/chat/completions</c> on its v1 surface (docs/providers.md, "Azure OpenAI").
    /// </summary>
    public string CreateEndpoint(string jobEndpoint) =>
        Kind == ProviderKinds.Azure && jobEndpoint.StartsWith("/v1/", StringComparison.Ordinal) ? jobEndpoint[3..] : jobEndpoint;

    /// <summary>For logs and tags: never a URL or key.</summary>
    public string Label => Name ?? "default";
}

/// <summary>A step of a model's route, resolved: the provider and the model name it is sent.</summary>
public sealed record RouteStep(RoutedProvider Provider, string? Model);

/// <summary>
/// Every provider the workers call, built once from <c>Provider</c>, <c>Providers</c> and <c>Routing:Routes</c>
/// (<see cref="RoutingOptions"/>): a chunk's provider by the name on its record, and a model's route.
/// </summary>
public sealed class ProviderDirectory
{
    private readonly Dictionary<string, RoutedProvider> _named = new(StringComparer.Ordinal);

    public ProviderDirectory(ProviderBatchCommands commands, ProviderBatches batches, IOptions<RoutingOptions> routing,
        IOptions<ProviderOptions> defaults, IConfiguration configuration, IHttpClientFactory http, TimeProvider time)
    {
        Routing = routing.Value;
        Default = new RoutedProvider { Kind = ProviderKinds.OpenAI, Commands = commands, Batches = batches };
        var provider = defaults.Value;
        foreach (var (name, settings) in Routing.Providers)
        {
            var endpoint = RoutedProviderEndpoints.Resolve(settings, configuration)
                ?? throw new InvalidOperationException($"Providers:{name} has no endpoint (validated at start).");
            var apiKey = string.IsNullOrWhiteSpace(settings.BaseUrl) ? settings.ApiKey ?? RoutedProviderEndpoints.SandboxKey(configuration) : settings.ApiKey!;
            if (settings.Kind == ProviderKinds.Anthropic)
            {
                _named[name] = new RoutedProvider
                {
                    Name = name, Kind = settings.Kind, Settings = settings,
                    Anthropic = AnthropicBatchClient.Create(endpoint, apiKey, time, http.CreateClient(Microsoft.Extensions.Hosting.ProviderClientExtensions.AnthropicHttpClientName),
                        provider.MaxRetryAttempts),
                };
                continue;
            }
            var options = new OpenAIClientOptions
            {
                Endpoint = endpoint,
                Transport = new HttpClientPipelineTransport(http.CreateClient(Microsoft.Extensions.Hosting.ProviderClientExtensions.HttpClientName)),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = provider.TotalTimeout + TimeSpan.FromSeconds(30),
                ClientLoggingOptions = new ClientLoggingOptions { EnableLogging = false },
            };
#pragma warning disable OPENAI001 // the constructor taking an AuthenticationPolicy is marked experimental, as the Batch API is
            var client = settings.Kind == ProviderKinds.Azure
                ? new OpenAIClient(AzureAuthentication(apiKey), options)
                : new OpenAIClient(new ApiKeyCredential(apiKey), options);
#pragma warning restore OPENAI001
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
            var batchClient = client.GetBatchClient();
#pragma warning restore OPENAI001
            _named[name] = new RoutedProvider
            {
                Name = name, Kind = settings.Kind, Settings = settings,
                Commands = new ProviderBatchCommands(batchClient, client.GetOpenAIFileClient()),
                Batches = new ProviderBatches(batchClient),
            };
        }
    }

    public RoutingOptions Routing { get; }

    /// <summary>
    /// The SDK's authentication for an azure provider: the key in the <c>api-key</c> header an Azure OpenAI resource reads
    /// it from, not OpenAI's <c>Authorization: Bearer</c> (a Bearer there is read as a Microsoft Entra token and refused).
    /// </summary>
    public static AuthenticationPolicy AzureAuthentication(string apiKey) =>
        ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(new ApiKeyCredential(apiKey), AzureApiKeyHeader);

    /// <summary>The header an Azure OpenAI resource reads its key from.</summary>
    public const string AzureApiKeyHeader = "api-key";

    /// <summary>The provider of the <c>Provider</c> section: where every unrouted model goes.</summary>
    public RoutedProvider Default { get; }

    /// <summary>The provider a chunk record names (null or empty: the default one).</summary>
    public RoutedProvider Get(string? name) =>
        string.IsNullOrEmpty(name) ? Default
        : _named.TryGetValue(name, out var provider) ? provider
        : throw new InvalidOperationException($"A chunk names provider '{name}', which is no longer configured under Providers.");

    /// <summary>The route of <paramref name="model"/>: its providers in order, or the default provider alone.</summary>
    public IReadOnlyList<RouteStep> RouteOf(string? model) =>
        Routing.RouteOf(model) is { } route
            ? [.. route.Select(step => new RouteStep(_named[step.Provider], step.Model))]
            : [new RouteStep(Default, null)];
}

/// <summary>Where a routed provider lives: its <c>BaseUrl</c>, else the bundled Sandbox (which speaks every kind).</summary>
internal static class RoutedProviderEndpoints
{
    public static Uri? Resolve(NamedProvider settings, IConfiguration configuration)
    {
        if (!string.IsNullOrWhiteSpace(settings.BaseUrl))
        {
            // Azure's guides give the v1 surface with a trailing slash (…/openai/v1/); the SDK appends "/batches" itself.
            var baseUrl = settings.Kind == ProviderKinds.Azure ? settings.BaseUrl.TrimEnd('/') : settings.BaseUrl;
            return Uri.TryCreate(baseUrl, UriKind.Absolute, out var explicitUri) ? explicitUri : null;
        }
        var sandbox = configuration[$"services:{ResourceNames.Sandbox}:https:0"] ?? configuration[$"services:{ResourceNames.Sandbox}:http:0"];
        if (sandbox is null) return null;
        // The OpenAI SDK takes the root with /v1 (an Azure resource's v1 surface is under /openai/v1); the Anthropic SDK adds /v1 itself.
        var root = sandbox.TrimEnd('/');
        var url = settings.Kind switch
        {
            ProviderKinds.Anthropic => root,
            ProviderKinds.Azure => root + "/openai/v1",
            _ => root + "/v1",
        };
        return Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null;
    }

    /// <summary>
    /// The key the Sandbox takes: the default provider's when that is the Sandbox too (a Sandbox may be started with one
    /// key), else the Sandbox's default; never a real provider's key.
    /// </summary>
    public static string SandboxKey(IConfiguration configuration)
    {
        var sandbox = configuration[$"services:{ResourceNames.Sandbox}:https:0"] ?? configuration[$"services:{ResourceNames.Sandbox}:http:0"];
        var defaultUrl = configuration[$"{ProviderOptions.SectionName}:BaseUrl"];
        var defaultIsSandbox = string.IsNullOrWhiteSpace(defaultUrl)
            || (sandbox is not null && defaultUrl.StartsWith(sandbox.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
        return defaultIsSandbox && configuration[$"{ProviderOptions.SectionName}:ApiKey"] is { Length: > 0 } key ? key : ProviderOptions.SandboxApiKey;
    }
}

/// <summary>Fails the start on a bad route table or a routed provider without an endpoint or key; names settings, never values.</summary>
internal sealed class RoutingOptionsValidation(IConfiguration configuration) : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions options)
    {
        var failures = new List<string>(options.Validate());
        foreach (var (provider, settings) in options.Providers)
        {
            if (!string.IsNullOrWhiteSpace(settings.BaseUrl) && string.IsNullOrWhiteSpace(settings.ApiKey))
                failures.Add($"{RoutingOptions.ProvidersSection}:{provider}:ApiKey is required when {RoutingOptions.ProvidersSection}:{provider}:BaseUrl is set.");
            if (string.IsNullOrWhiteSpace(settings.BaseUrl) && RoutedProviderEndpoints.Resolve(settings, configuration) is null)
                failures.Add($"{RoutingOptions.ProvidersSection}:{provider}:BaseUrl must be set, or the service must reference the " +
                             $"'{ResourceNames.Sandbox}' resource (services:{ResourceNames.Sandbox}:http:0).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
