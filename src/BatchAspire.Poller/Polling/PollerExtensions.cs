using BatchAspire.Core.Polling;
using BatchAspire.Poller.Polling;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class PollerExtensions
{
    /// <summary>
    /// The poll loop, its options (section <c>Poller</c>, validated at start) and the Redis poll schedule.
    /// Needs an <c>IConnectionMultiplexer</c>, the provider client and a MassTransit bus.
    /// </summary>
    public static TBuilder AddPoller<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PollerOptions>()
            .BindConfiguration(PollerOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ValidatingInterval <= o.MaxInterval && o.InitialInterval <= o.MaxInterval,
                $"{PollerOptions.SectionName}:ValidatingInterval and InitialInterval must not exceed MaxInterval.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<PollSchedule>();
        builder.Services.TryAddSingleton<PollerTelemetry>();
        builder.Services.AddHostedService<PollerWorker>();
        return builder;
    }
}
