using BatchAspire.Contracts;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

public static class BatchBusExtensions
{
    /// <summary>
    /// MassTransit over RabbitMQ from <c>ConnectionStrings:messaging</c> (an amqp URI): kebab-case
    /// endpoint names, publisher confirms, one retry policy shared by every receive endpoint, and an
    /// in-memory outbox so a consumer's publishes leave only when it succeeds. Services pass their
    /// consumers in <paramref name="configure"/>; a publish-only service passes nothing.
    /// </summary>
    public static IHostApplicationBuilder AddBatchBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
    {
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var connectionString = builder.Configuration.GetConnectionString(ResourceNames.Messaging);
                if (string.IsNullOrWhiteSpace(connectionString))
                    throw new InvalidOperationException($"ConnectionStrings:{ResourceNames.Messaging} (an amqp:// URI) is not configured.");
                rabbit.Host(new Uri(connectionString), host => host.PublisherConfirmation = true);
                BusPolicies.Apply(rabbit, context);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}

/// <summary>The policies every BatchAspire receive endpoint shares.</summary>
public static class BusPolicies
{
    /// <summary>
    /// Short exponential retries for transient faults (a Redis blip, a broker hiccup); long waits
    /// belong in Redis schedules, not in the broker (no delayed-exchange plugin here). After the last
    /// retry the message goes to the endpoint's <c>_error</c> queue and a <c>Fault&lt;T&gt;</c> is published.
    /// </summary>
    public static void Apply<TEndpoint>(IBusFactoryConfigurator<TEndpoint> bus, IBusRegistrationContext context)
        where TEndpoint : IReceiveEndpointConfigurator
    {
        bus.UseMessageRetry(retry =>
        {
            retry.Ignore<ArgumentException>();
            retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500));
        });
        bus.UseInMemoryOutbox(context);
    }
}
