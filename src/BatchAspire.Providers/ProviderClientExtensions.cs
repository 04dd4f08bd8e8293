using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenAI.Files;
using BatchAspire.Providers;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the provider client: the official OpenAI SDK over one named HttpClient that carries the only
/// retry layer. Services use <see cref="ProviderBatches"/> (and later the file
/// helpers beside it) rather than the SDK clients directly.
/// </summary>
public static class ProviderClientExtensions
{
    /// <summary>The named HttpClient every provider call goes through.</summary>
    public const string HttpClientName = "provider";

    /// <summary>The HttpClient of the Anthropic SDK, without a resilience handler: the SDK's retries are that call's one layer.</summary>
    public const string AnthropicHttpClientName = "provider-anthropic";

    public static TBuilder AddProviderClient<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        services.AddOptions<ProviderOptions>()
            .BindConfiguration(ProviderOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<ProviderOptions>, ProviderOptionsSetup>();
        services.AddSingleton<IValidateOptions<ProviderOptions>, ProviderOptionsValidation>();

#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; it drops the handler ServiceDefaults adds to every client.
        services.AddHttpClient(HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)   // the resilience handler owns timeouts
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
            .RedactLoggedHeaders(["Authorization", ProviderDirectory.AzureApiKeyHeader])
            .RemoveAllResilienceHandlers()
            .AddStandardResilienceHandler()
            .Configure(resilience =>
            {
                // Bound here rather than read from the validated options, so that a bad Provider section fails
                // the start with its own message, not wrapped in the resilience pipeline's.
                var provider = builder.Configuration.GetSection(ProviderOptions.SectionName).Get<ProviderOptions>() ?? new ProviderOptions();
                // Never replay a POST: a create that timed out may have created the batch (the submitter looks it
                // up by metadata instead), and a streamed upload body cannot be sent twice anyway.
                resilience.Retry.DisableForUnsafeHttpMethods();
                resilience.Retry.MaxRetryAttempts = provider.MaxRetryAttempts;
                resilience.Retry.Delay = provider.RetryDelay;
                resilience.Retry.ShouldRetryAfterHeader = true;
                resilience.AttemptTimeout.Timeout = provider.AttemptTimeout;
                resilience.TotalRequestTimeout.Timeout = provider.TotalTimeout;
                // The breaker validates that it samples at least two attempt timeouts.
                var sampling = provider.AttemptTimeout * 2;
                if (resilience.CircuitBreaker.SamplingDuration < sampling)
                {
                    resilience.CircuitBreaker.SamplingDuration = sampling;
                }
            });
#pragma warning restore EXTEXP0001

        services.AddSingleton(sp =>
        {
            var provider = sp.GetRequiredService<IOptions<ProviderOptions>>().Value;
            var http = sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName);
            return new OpenAIClient(new ApiKeyCredential(provider.ApiKey!), new OpenAIClientOptions
            {
                Endpoint = provider.Endpoint,
                Transport = new HttpClientPipelineTransport(http),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),        // the SDK retries 3x by default; one layer only
                NetworkTimeout = provider.TotalTimeout + TimeSpan.FromSeconds(30),
                ClientLoggingOptions = new ClientLoggingOptions { EnableLogging = false },   // request bodies carry prompts
            });
        });
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
        services.AddSingleton(sp => sp.GetRequiredService<OpenAIClient>().GetBatchClient());
#pragma warning restore OPENAI001
        services.AddSingleton<OpenAIFileClient>(sp => sp.GetRequiredService<OpenAIClient>().GetOpenAIFileClient());
        services.AddSingleton<ProviderBatches>();
        services.TryAddSingleton<ProviderBatchCommands>();
        services.TryAddSingleton(TimeProvider.System);

        // Routed providers (Providers:{name}, Routing:Routes): the route table's own checks, then endpoints and keys.
        services.AddRouteTable();
        services.AddSingleton<IValidateOptions<BatchAspire.Core.Routing.RoutingOptions>, RoutingOptionsValidation>();
#pragma warning disable EXTEXP0001 // as above: no handler of ServiceDefaults under the SDK's retries
        services.AddHttpClient(AnthropicHttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)   // the SDK's own timeout applies
            .RedactLoggedHeaders(["x-api-key"])
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        services.AddSingleton<ProviderDirectory>();
        return builder;
    }
}
