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
            var connection = BrokerConnection.Parse(builder.Configuration.GetConnectionString(ResourceNames.Messaging));
            var quorum = builder.Configuration.GetValue<bool?>("Messaging:QuorumQueues") ?? connection.IsCluster;
            if (quorum)
            {
                // Replicated on every node of the cluster, so losing one node loses no message and stops no consumer.
                bus.AddConfigureEndpointsCallback((_, _, endpoint) =>
                {
                    if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit) rabbit.SetQuorumQueue(connection.Nodes.Count);
                });
            }
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(connection.Nodes[0], host =>
                {
                    host.PublisherConfirmation = true;
                    if (connection.IsCluster)
                        host.UseCluster(cluster => { foreach (var node in connection.Nodes) cluster.Node($"{node.Host}:{node.Port}"); });
                });
                BusPolicies.Apply(rabbit, context);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}

/// <summary>
/// <c>ConnectionStrings:messaging</c>: one amqp URI, or the URIs of a cluster's nodes separated by commas (the first
/// also gives the credentials and virtual host). A cluster gets quorum queues unless <c>Messaging:QuorumQueues</c> says otherwise.
/// </summary>
public sealed record BrokerConnection(IReadOnlyList<Uri> Nodes)
{
    public bool IsCluster => Nodes.Count > 1;

    public static BrokerConnection Parse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException($"ConnectionStrings:{ResourceNames.Messaging} (an amqp:// URI) is not configured.");
        var nodes = new List<Uri>();
        foreach (var part in connectionString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
                throw new InvalidOperationException($"ConnectionStrings:{ResourceNames.Messaging} must be amqp:// URIs separated by commas; entry {nodes.Count + 1} is not.");
            nodes.Add(uri);
        }
        return new BrokerConnection(nodes);
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
