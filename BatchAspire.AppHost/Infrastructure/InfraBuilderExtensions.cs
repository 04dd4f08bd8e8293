using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Net.Sockets;

namespace BatchAspire.AppHost.Infrastructure;

/// <summary>
/// Redis and RabbitMQ as containers where a container runtime answers, or as local
/// <c>redis-server</c> / <c>rabbitmq-server</c> processes where none does. Either way the services
/// see only a connection string named after the resource.
/// </summary>
internal static class InfraBuilderExtensions
{
    /// <summary>
    /// The folder holding this run's server data (<c>Infra:DataDirectory</c>, else a new folder
    /// under the temp directory), so two AppHosts on one machine never share state.
    /// </summary>
    public static string RunDataDirectory(this IDistributedApplicationBuilder builder)
    {
        // Writing a manifest runs nothing: no folder for it on this machine.
        if (builder.ExecutionContext.IsPublishMode) return "";
        var configured = builder.Configuration["Infra:DataDirectory"];
        var directory = !string.IsNullOrEmpty(configured)
            ? Path.GetFullPath(configured)
            : Path.Combine(Path.GetTempPath(), "batchaspire", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddBatchRedis(
        this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        if (InfraMode.IsExternal(builder))
        {
            return builder.AddConnectionString(name);
        }
        if (HighAvailability.IsEnabled(builder))
        {
            return builder.AddRedisWithSentinels(name, dataDirectory);
        }
        if (InfraMode.UseContainers(builder))
        {
            return builder.AddRedis(name)
                .WithDataVolume()
                .WithPersistence(interval: TimeSpan.FromSeconds(10));
        }

        return builder.AddLocalRedisNode(name, dataDirectory, FreeLoopbackPort());
    }

    /// <summary>
    /// One local <c>redis-server</c> with append-only persistence in the run's data folder: the single Redis, or a node
    /// of the high-availability set (<paramref name="replicaOf"/>: the primary's port).
    /// </summary>
    internal static IResourceBuilder<LocalRedisResource> AddLocalRedisNode(this IDistributedApplicationBuilder builder, string name,
        string dataDirectory, int port, int? replicaOf = null)
    {
        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddCheck(healthCheckKey, ProtocolHealthCheck.RedisPing(() => port));
        string[] replication = replicaOf is { } primaryPort ? ["--replicaof", "127.0.0.1", primaryPort.ToString()] : [];
        return builder.AddResource(new LocalRedisResource(name, directory))
            // Our own port, not a DCP proxy: every Redis round trip of the pipeline would pay for the proxy hop.
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithArgs(["--port", port.ToString(), "--bind", "127.0.0.1", "--dir", directory,
                       "--appendonly", "yes", "--appendfsync", "everysec",
                       "--maxmemory-policy", "noeviction", "--save", "", "--protected-mode", "no", .. replication])
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddBatchRabbitMQ(
        this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        if (InfraMode.IsExternal(builder))
        {
            return builder.AddConnectionString(name);
        }
        if (HighAvailability.IsEnabled(builder))
        {
            return builder.AddRabbitMQCluster(name, dataDirectory);
        }
        if (InfraMode.UseContainers(builder))
        {
            return builder.AddRabbitMQ(name).WithDataVolume();
        }

        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var home = Directory.CreateDirectory(Path.Combine(directory, "home")).FullName;
        var epmdPort = FreeLoopbackPort();
        // RabbitMQ starts an `epmd -daemon` that would outlive it; running our own epmd in the
        // foreground as a resource means it is stopped with everything else.
        var epmd = builder.AddExecutable($"{name}-epmd", "epmd", directory, "-port", epmdPort.ToString(), "-address", "127.0.0.1");

        // A node name unique to this run: two AppHosts on one machine must not share an Erlang node.
        var nodeName = $"{name}-{Path.GetFileName(dataDirectory).Replace('.', '-')}@localhost";
        return builder.AddLocalRabbitMQNode(name, directory, home, nodeName, epmdPort).WaitFor(epmd);
    }

    /// <summary>
    /// One <c>rabbitmq-server</c> node with its data and logs in <paramref name="directory"/>, on ports of its own, found
    /// through the <c>epmd</c> on <paramref name="epmdPort"/>; <paramref name="configBase"/> names a <c>rabbitmq.conf</c>
    /// (without its extension) when the node needs one, e.g. to join a cluster.
    /// </summary>
    internal static IResourceBuilder<LocalRabbitMQResource> AddLocalRabbitMQNode(this IDistributedApplicationBuilder builder, string name,
        string directory, string home, string nodeName, int epmdPort, string? configBase = null)
    {
        var emptyConfig = Path.Combine(directory, "rabbitmq-env.conf");
        var pluginsFile = Path.Combine(directory, "enabled_plugins");
        File.WriteAllText(emptyConfig, "");
        File.WriteAllText(pluginsFile, "[].");
        var (amqpPort, distributionPort) = (FreeLoopbackPort(), FreeLoopbackPort());
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddCheck(healthCheckKey, ProtocolHealthCheck.AmqpHandshake(() => amqpPort));
        var node = builder.AddResource(new LocalRabbitMQResource(name, directory))
            .WithEndpoint(port: amqpPort, targetPort: amqpPort, scheme: "tcp", name: "tcp", isProxied: false)
            .WithEnvironment("HOME", home)
            .WithEnvironment("RABBITMQ_CONF_ENV_FILE", emptyConfig)
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", pluginsFile)
            .WithEnvironment("RABBITMQ_NODENAME", nodeName)
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_NODE_PORT", amqpPort.ToString())
            // Always set: the default is the AMQP port + 20000, past 65535 for high ports.
            .WithEnvironment("RABBITMQ_DIST_PORT", distributionPort.ToString())
            .WithEnvironment("ERL_EPMD_PORT", epmdPort.ToString())
            .WithEnvironment("ERL_EPMD_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(directory, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(directory, "log"))
            .WithEnvironment("RABBITMQ_LOGS", "-")
            .WithHealthCheck(healthCheckKey);
        return configBase is null ? node : node.WithEnvironment("RABBITMQ_CONFIG_FILE", configBase);
    }

    /// <summary>
    /// Where the services keep payload (<c>Blobs:Provider</c>): <c>filesystem</c> (default) in <c>Blobs:Root</c>, else
    /// under the run's data folder, or <c>azure</c> in an Azurite blob service named <paramref name="name"/>, whose data is kept there too.
    /// </summary>
    public static BlobStoreWiring AddBatchBlobs(this IDistributedApplicationBuilder builder, string name, string dataDirectory)
    {
        // Services on several machines share no folder unless one is mounted on each: a manifest defaults to Azure Blob Storage.
        var provider = (builder.Configuration["Blobs:Provider"] ?? (builder.ExecutionContext.IsPublishMode ? "azure" : "filesystem")).ToLowerInvariant();
        if (provider == "filesystem")
        {
            if (builder.ExecutionContext.IsPublishMode)
            {
                var shared = builder.Configuration["Blobs:Root"] is { Length: > 0 } mounted ? mounted
                    : throw new InvalidOperationException("A manifest with Blobs:Provider=filesystem needs Blobs:Root: a folder every machine mounts.");
                return new BlobStoreWiring(shared, null);
            }
            var root = builder.Configuration["Blobs:Root"] is { Length: > 0 } configured ? configured : Path.Combine(dataDirectory, name);
            return new BlobStoreWiring(Directory.CreateDirectory(root).FullName, null);
        }
        if (provider != "azure")
        {
            throw new InvalidOperationException($"Blobs:Provider '{provider}' is not one of: filesystem, azure.");
        }
        if (InfraMode.IsExternal(builder))
        {
            return new BlobStoreWiring(null, builder.AddConnectionString(name));
        }

        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, name)).FullName;
        var healthCheckKey = $"{name}_check";
        const string listPath = $"/{AzuriteConnection.AccountName}?comp=list";
        // The request versions of a newer SDK than this Azurite knows are accepted; the calls the store makes are old.
        string[] common = ["--skipApiVersionCheck", "--loose", "--disableTelemetry"];

        if (InfraMode.UseContainers(builder))
        {
            var container = builder.AddResource(new AzuriteContainerResource(name))
                .WithImage("azure-storage/azurite", "3.37.0")
                .WithImageRegistry("mcr.microsoft.com")
                .WithHttpEndpoint(targetPort: 10000, name: "blob")
                .WithBindMount(directory, "/data")
                .WithArgs(["azurite-blob", "--blobHost", "0.0.0.0", "--blobPort", "10000", "--location", "/data", .. common]);
            var endpoint = container.Resource.PrimaryEndpoint;
            builder.Services.AddHealthChecks().AddCheck(healthCheckKey, ProtocolHealthCheck.HttpAnswers(() => endpoint.Port, listPath));
            return new BlobStoreWiring(null, container.WithHealthCheck(healthCheckKey));
        }

        // The one install scripts/prerequisites.sh --azurite makes; the storage tests run the same one.
        var azurite = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, "..", "tools", "azurite", "node_modules", ".bin", "azurite-blob"));
        if (!File.Exists(azurite))
        {
            throw new InvalidOperationException($"Blobs:Provider is azure but Azurite is not installed ({azurite}): run scripts/prerequisites.sh --azurite.");
        }
        var port = FreeLoopbackPort();
        builder.Services.AddHealthChecks().AddCheck(healthCheckKey, ProtocolHealthCheck.HttpAnswers(() => port, listPath));
        var local = builder.AddResource(new LocalAzuriteResource(name, azurite, directory))
            // Our own port, not a DCP proxy, as for Redis: every payload byte would pay for the proxy hop.
            .WithEndpoint(port: port, targetPort: port, scheme: "http", name: "blob", isProxied: false)
            .WithArgs(["--blobHost", "127.0.0.1", "--blobPort", port.ToString(), "--location", directory, "--silent", .. common])
            .WithHealthCheck(healthCheckKey);
        return new BlobStoreWiring(null, local);
    }

    internal static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The blob store the services are given: a folder (<see cref="Root"/>) or an Azurite resource.</summary>
internal sealed record BlobStoreWiring(string? Root, IResourceBuilder<IResourceWithConnectionString>? Azurite);
