using MassTransit;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Temporary, until the shared <c>AddBatchBus</c> lands in BatchAspire.Core/Messaging: a publish-only
/// MassTransit bus over RabbitMQ from the <c>messaging</c> connection string (an amqp:// URI).
/// </summary>
internal static class PollerBus
{
    public static TBuilder AddPollerBus<TBuilder>(this TBuilder builder, string connectionName) where TBuilder : IHostApplicationBuilder
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                if (connectionString is not null) rabbit.Host(new Uri(connectionString));
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
