using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.AppHost.Infrastructure;

/// <summary>
/// <c>Infra:HighAvailability=true</c> (local processes only): Redis as a primary, a replica and three Sentinels that
/// fail over to the replica, and RabbitMQ as a cluster of three nodes. The services see the same two connection
/// strings as ever, named <c>cache</c> and <c>messaging</c>: the Sentinels with the service name (StackExchange.Redis
/// asks them for the primary, and follows a failover), and the three nodes' amqp URIs, comma-separated (MassTransit
/// connects to the first that answers and declares quorum queues, replicated on all three).
/// </summary>
internal static class HighAvailability
{
    /// <summary>The name the Sentinels know the primary by (the <c>serviceName</c> of the connection string).</summary>
    public const string RedisServiceName = "batchaspire";

    public static bool IsEnabled(IDistributedApplicationBuilder builder)
    {
        if (!string.Equals(builder.Configuration["Infra:HighAvailability"], "true", StringComparison.OrdinalIgnoreCase)) return false;
        return !InfraMode.UseContainers(builder) ? true
            : throw new InvalidOperationException("Infra:HighAvailability runs local processes: use it with Infra:Mode=process.");
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddRedisWithSentinels(
        this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        var primaryPort = InfraBuilderExtensions.FreeLoopbackPort();
        var primary = builder.AddLocalRedisNode($"{name}-primary", dataDirectory, primaryPort);
        var replica = builder.AddLocalRedisNode($"{name}-replica", dataDirectory, InfraBuilderExtensions.FreeLoopbackPort(), replicaOf: primaryPort)
            .WaitFor(primary);

        var sentinels = new List<IResourceBuilder<ExecutableResource>>();
        for (var i = 1; i <= 3; i++)
        {
            var sentinelName = $"{name}-sentinel-{i}";
            var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name, sentinelName)).FullName;
            var port = InfraBuilderExtensions.FreeLoopbackPort();
            // Sentinel rewrites its file as it learns the topology; it is written afresh for this run's ports.
            var config = Path.Combine(directory, "sentinel.conf");
            File.WriteAllText(config, $"""
                port {port}
                bind 127.0.0.1
                dir {directory}
                sentinel monitor {RedisServiceName} 127.0.0.1 {primaryPort} 2
                sentinel down-after-milliseconds {RedisServiceName} 2000
                sentinel failover-timeout {RedisServiceName} 10000
                sentinel parallel-syncs {RedisServiceName} 1

                """);
            var healthCheckKey = $"{sentinelName}_check";
            builder.Services.AddHealthChecks().AddCheck(healthCheckKey, ProtocolHealthCheck.RedisPing(() => port));
            sentinels.Add(builder.AddExecutable(sentinelName, "redis-server", directory, config, "--sentinel")
                .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
                .WithHealthCheck(healthCheckKey)
                .WaitFor(replica));
        }

        var hosts = sentinels.Select(s => s.GetEndpoint("tcp")).ToArray();
        var connection = builder.AddConnectionString(name, ReferenceExpression.Create(
            $"{hosts[0].Property(EndpointProperty.Host)}:{hosts[0].Property(EndpointProperty.Port)},{hosts[1].Property(EndpointProperty.Host)}:{hosts[1].Property(EndpointProperty.Port)},{hosts[2].Property(EndpointProperty.Host)}:{hosts[2].Property(EndpointProperty.Port)},serviceName={RedisServiceName}"));
        foreach (var sentinel in sentinels) connection.WaitFor(sentinel);
        return connection;
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddRabbitMQCluster(
        this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var home = Directory.CreateDirectory(Path.Combine(directory, "home")).FullName;
        // Nodes of one cluster share an Erlang cookie; this one is made for the run's folder and readable only by its owner.
        var cookie = Path.Combine(home, ".erlang.cookie");
        if (!File.Exists(cookie))
        {
            File.WriteAllText(cookie, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20)));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
        }
        var epmdPort = InfraBuilderExtensions.FreeLoopbackPort();
        var epmd = builder.AddExecutable($"{name}-epmd", "epmd", directory, "-port", epmdPort.ToString(), "-address", "127.0.0.1");

        var run = Path.GetFileName(dataDirectory).Replace('.', '-');
        string[] letters = ["a", "b", "c"];
        var nodeNames = letters.Select(l => $"{name}-{l}-{run}@localhost").ToArray();
        // Classic peer discovery: a node with an empty database joins the first listed node that answers.
        var configBase = Path.Combine(directory, "rabbitmq");
        File.WriteAllLines(configBase + ".conf",
            ["cluster_formation.peer_discovery_backend = classic_config",
             .. nodeNames.Select((node, i) => $"cluster_formation.classic_config.nodes.{i + 1} = {node}")]);

        var nodes = new List<IResourceBuilder<LocalRabbitMQResource>>();
        for (var i = 0; i < letters.Length; i++)
        {
            var nodeName = $"{name}-{letters[i]}";
            var nodeDirectory = Directory.CreateDirectory(Path.Combine(directory, nodeName)).FullName;
            var node = builder.AddLocalRabbitMQNode(nodeName, nodeDirectory, home, nodeNames[i], epmdPort, configBase).WaitFor(epmd);
            // The first node forms the cluster; the others start once it answers, so they join it instead of forming their own.
            if (nodes.Count > 0) node.WaitFor(nodes[0]);
            nodes.Add(node);
        }

        var endpoints = nodes.Select(n => n.Resource.PrimaryEndpoint).ToArray();
        var connection = builder.AddConnectionString(name, ReferenceExpression.Create(
            $"amqp://guest:guest@{endpoints[0].Property(EndpointProperty.Host)}:{endpoints[0].Property(EndpointProperty.Port)},amqp://guest:guest@{endpoints[1].Property(EndpointProperty.Host)}:{endpoints[1].Property(EndpointProperty.Port)},amqp://guest:guest@{endpoints[2].Property(EndpointProperty.Host)}:{endpoints[2].Property(EndpointProperty.Port)}"));
        foreach (var node in nodes) connection.WaitFor(node);
        return connection;
    }
}
