using BatchAspire.Core.Webhooks;
using BatchAspire.Results.Webhooks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static class WebhookExtensions
{
    /// <summary>
    /// Webhooks (section <c>Webhooks</c>, docs/webhooks.md): the endpoints, checked at startup, and the dispatcher that
    /// delivers ended jobs' events. Needs an <c>IConnectionMultiplexer</c>.
    /// </summary>
    public static TBuilder AddWebhooks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<WebhookOptions>()
            .BindConfiguration(WebhookOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<WebhookEndpoints>();
        builder.Services.TryAddSingleton<WebhookEvents>();
        builder.Services.TryAddSingleton<WebhookTelemetry>();
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; the dispatcher's schedule is the one retry layer of a delivery.
        builder.Services.AddHttpClient(WebhookDispatcher.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)   // each try has its own timeout
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                // A redirect could lead to an address the checks refused; a receiver that moved updates its Url.
                AllowAutoRedirect = false,
                ConnectCallback = EndpointAddressPolicy.ConnectCallback(services.GetRequiredService<IOptions<WebhookOptions>>().Value.AllowPrivateAddresses),
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddHostedService<WebhookDispatcher>();
        return builder;
    }
}
