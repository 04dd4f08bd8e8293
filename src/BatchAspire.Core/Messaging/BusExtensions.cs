using BatchAspire.Contracts;
using BatchAspire.Core.Faults;
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
    /// Two retry layers. Inside, an outage of something the message needs (Redis unreachable or loading, the
    /// provider answering 5xx/429 or not at all, the blob store unreachable or full: whatever <see cref="FaultRule"/>
    /// calls transient) is retried for as long as it lasts, backing off to one try every
    /// <see cref="MaxOutageRetryInterval"/>: the message stays unacknowledged in RabbitMQ meanwhile, so a crash still
    /// hands it to another consumer, and nothing is given up because an outage outlasted a retry budget. Outside,
    /// any other fault gets short exponential retries; after the last one the message goes to the endpoint's
    /// <c>_error</c> queue and a <c>Fault&lt;T&gt;</c> is published, for an operator to see.
    /// </summary>
    /// <remarks>
    /// Without the inner layer a provider that failed downloads for about a minute, or Redis down for longer than
    /// the client's timeouts times the retries, sent <c>ChunkFinished</c> to the error queue: nothing sends it again
    /// (the poller has already unscheduled the chunk), so the job stayed <c>in_progress</c> for ever.
    /// </remarks>
    public static void Apply<TEndpoint>(IBusFactoryConfigurator<TEndpoint> bus, IBusRegistrationContext context)
        where TEndpoint : IReceiveEndpointConfigurator
    {
        bus.UseMessageRetry(retry =>
        {
            retry.Ignore<ArgumentException>();
            retry.Exponential(5, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(500));
        });
        bus.UseMessageRetry(retry =>
        {
            retry.Handle<Exception>(FaultRule.IsTransient);
            retry.Exponential(int.MaxValue, TimeSpan.FromMilliseconds(200), MaxOutageRetryInterval, TimeSpan.FromMilliseconds(500));
        });
        bus.UseInMemoryOutbox(context);
    }

    /// <summary>The longest wait between two tries of a message held up by an outage.</summary>
    public static readonly TimeSpan MaxOutageRetryInterval = TimeSpan.FromSeconds(15);
}
