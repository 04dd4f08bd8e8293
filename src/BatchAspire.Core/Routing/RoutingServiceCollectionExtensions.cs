using BatchAspire.Core.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class RoutingServiceCollectionExtensions
{
    /// <summary>
    /// Binds the route table (<see cref="RoutingOptions"/>: <c>Providers:{name}</c>, <c>Routing:Routes:{model}</c>) and
    /// checks it at start. Empty when nothing is configured: every model goes to the default provider.
    /// </summary>
    public static IServiceCollection AddRouteTable(this IServiceCollection services)
    {
        services.AddOptions<RoutingOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                configuration.GetSection(RoutingOptions.ProvidersSection).Bind(options.Providers);
                configuration.GetSection(RoutingOptions.RoutesSection).Bind(options.Routes);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RoutingOptions>, RouteTableValidation>();
        return services;
    }

    private sealed class RouteTableValidation : IValidateOptions<RoutingOptions>
    {
        public ValidateOptionsResult Validate(string? name, RoutingOptions options) =>
            options.Validate() is { Count: > 0 } failures ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
