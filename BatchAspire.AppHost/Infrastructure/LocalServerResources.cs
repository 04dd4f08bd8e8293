namespace BatchAspire.AppHost.Infrastructure;

/// <summary>A <c>redis-server</c> run as a local process, shaped like Aspire's RedisResource.</summary>
public sealed class LocalRedisResource(string name, string workingDirectory)
    : ExecutableResource(name, "redis-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

/// <summary>A <c>rabbitmq-server</c> run as a local process, shaped like Aspire's RabbitMQServerResource.</summary>
public sealed class LocalRabbitMQResource(string name, string workingDirectory)
    : ExecutableResource(name, "/usr/lib/rabbitmq/bin/rabbitmq-server", workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "tcp");

    // guest/guest is RabbitMQ's built-in account, accepted only from loopback, where this server listens.
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"amqp://guest:guest@{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");
}

/// <summary>
/// The connection string of Azurite's blob service with its well-known development account (the key is public,
/// published by Microsoft; Azurite accepts nothing else by default).
/// </summary>
internal static class AzuriteConnection
{
    public const string AccountName = "devstoreaccount1";
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    // By IP address, not "localhost": the Azure SDK reads http://localhost:PORT/account (PORT not 10000...) as the
    // account in the host name and then drops the container from every blob URL.
    public static ReferenceExpression For(EndpointReference blob) => ReferenceExpression.Create(
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint=http://{blob.Property(EndpointProperty.IPV4Host)}:{blob.Property(EndpointProperty.Port)}/{AccountName};");
}

/// <summary>Azurite's blob service (<c>tools/azurite</c>) run as a local process.</summary>
public sealed class LocalAzuriteResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "blob");

    public ReferenceExpression ConnectionStringExpression => AzuriteConnection.For(PrimaryEndpoint);
}

/// <summary>Azurite's blob service in its official container.</summary>
public sealed class AzuriteContainerResource(string name) : ContainerResource(name), IResourceWithConnectionString
{
    public EndpointReference PrimaryEndpoint => new(this, "blob");

    public ReferenceExpression ConnectionStringExpression => AzuriteConnection.For(PrimaryEndpoint);
}
