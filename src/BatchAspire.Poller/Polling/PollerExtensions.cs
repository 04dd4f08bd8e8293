using BatchAspire.Core.Polling;
using BatchAspire.Poller.Polling;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class PollerExtensions
{
    /// <summary>
    /// The poll loop, its options (section <c>Poller</c>, validated at start), the Redis poll schedule and the
    /// subscription to poll notices that wakes an idle loop.
    /// Needs an <c>IConnectionMultiplexer</c>, the provider client and a MassTransit bus.
    /// </summary>
    public static TBuilder AddPoller<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PollerOptions>()
            .BindConfiguration(PollerOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ValidatingInterval <= o.MaxInterval && o.InitialInterval <= o.MaxInterval,
                $"{PollerOptions.SectionName}:ValidatingInterval and InitialInterval must not exceed MaxInterval.")
            .Validate(o => o.IdleDelay <= o.MaxIdleDelay, $"{PollerOptions.SectionName}:IdleDelay must not exceed MaxIdleDelay.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<PollSchedule>();
        builder.Services.TryAddSingleton<PollerTelemetry>();
        builder.Services.TryAddSingleton<PollNotices>();
        builder.Services.TryAddSingleton<PollWake>();
        builder.Services.AddHostedService<PollNoticeListener>();   // before the worker: subscribed before its first sleep
        builder.Services.AddHostedService<PollerWorker>();
        return builder;
    }
}
