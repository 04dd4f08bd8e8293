using System.Globalization;
using BatchAspire.AppHost.Infrastructure;
using BatchAspire.Contracts;
using Microsoft.Extensions.Configuration;

namespace BatchAspire.AppHost;

/// <summary>How the AppHost wires BatchAspire's own services.</summary>
internal static class ServiceBuilderExtensions
{
    /// <summary>
    /// The provider the workers call: the bundled Sandbox unless <c>Provider:BaseUrl</c> names an
    /// OpenAI-compatible Batch API, whose key then comes from the secret parameter
    /// <c>provider-api-key</c> (never from appsettings, never logged).
    /// </summary>
    public static ProviderWiring AddProvider(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> sandbox)
    {
        var baseUrl = builder.Configuration["Provider:BaseUrl"];
        // Routed providers (Providers:{name}): one with a BaseUrl takes its key from the secret parameter
        // provider-{name}-api-key; one without is the Sandbox, which the workers then reference.
        var routed = builder.Configuration.GetSection("Providers").GetChildren()
            .Select(p => new RoutedProviderWiring(p.Key, string.IsNullOrWhiteSpace(p["BaseUrl"]) ? null : builder.AddParameter($"provider-{p.Key}-api-key", secret: true)))
            .ToList();
        return string.IsNullOrWhiteSpace(baseUrl)
            ? new ProviderWiring(sandbox, null, null) { Routed = routed, SandboxForRoutes = sandbox }
            : new ProviderWiring(null, baseUrl, builder.AddParameter("provider-api-key", secret: true)) { Routed = routed, SandboxForRoutes = sandbox };
    }

    /// <summary>
    /// The intake's part of routing: the route table and each provider's kind, to know which models' lines to translate at
    /// validation. No endpoint, no key: the intake calls no provider.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithRouteTable(this IResourceBuilder<ProjectResource> service)
    {
        var configuration = service.ApplicationBuilder.Configuration;
        service.WithConfigurationSection(configuration, "Routing");
        foreach (var provider in configuration.GetSection("Providers").GetChildren())
        {
            if (provider["Kind"] is { } kind) service.WithEnvironment($"Providers__{provider.Key}__Kind", kind);
        }
        return service;
    }

    /// <summary>
    /// A BatchAspire service: its own HTTP endpoint (no launch profile, so no fixed port unless one is
    /// given), the AppHost's environment name, and a /health check that <c>WaitFor</c> relies on.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(
        this IDistributedApplicationBuilder builder, string name, int? port = null) where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: null)
            .WithHttpEndpoint(port: port, name: "http")
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.Environment.EnvironmentName)
            .WithHttpHealthCheck("/health");

    /// <summary>A worker: a web host only for /health, wired to Redis, RabbitMQ and the provider.</summary>
    public static IResourceBuilder<ProjectResource> AddWorker<TProject>(
        this IDistributedApplicationBuilder builder, string name,
        IResourceBuilder<IResourceWithConnectionString> cache,
        IResourceBuilder<IResourceWithConnectionString> messaging,
        ProviderWiring provider) where TProject : IProjectMetadata, new()
    {
        var worker = builder.AddService<TProject>(name)
            .WithReference(cache).WaitFor(cache)
            .WithReference(messaging).WaitFor(messaging)
            .WithConfigurationSection(builder.Configuration, ToSectionName(name));

        if (provider.Sandbox is { } sandbox)
        {
            // A Sandbox started with Sandbox:ApiKey accepts only that key; without one it accepts any.
            var sandboxKey = builder.Configuration["Sandbox:ApiKey"];
            worker.WithReference(sandbox).WaitFor(sandbox)
                  .WithEnvironment("Provider__BaseUrl", ReferenceExpression.Create($"{sandbox.GetEndpoint("http")}/v1"))
                  .WithEnvironment("Provider__ApiKey", string.IsNullOrEmpty(sandboxKey) ? "sandbox" : sandboxKey);
        }
        else
        {
            worker.WithEnvironment("Provider__BaseUrl", provider.BaseUrl!)
                  .WithEnvironment("Provider__ApiKey", provider.ApiKey!);
            if (provider.Routed.Any(p => p.ApiKey is null)) worker.WithReference(provider.SandboxForRoutes!).WaitFor(provider.SandboxForRoutes!);
        }

        // The route table and routed providers (docs/providers.md); a routed provider's key never from appsettings.
        worker.WithConfigurationSection(builder.Configuration, "Routing");
        foreach (var (key, value) in builder.Configuration.GetSection("Providers").AsEnumerable())
        {
            if (value is not null && !key.EndsWith(":ApiKey", StringComparison.OrdinalIgnoreCase)) worker.WithEnvironment(key.Replace(":", "__"), value);
        }
        foreach (var routed in provider.Routed.Where(p => p.ApiKey is not null))
        {
            worker.WithEnvironment($"Providers__{routed.Name}__ApiKey", routed.ApiKey!);
        }
        return worker;
    }

    /// <summary>
    /// Tells a service where payload lives: the <c>Blobs</c> section given to the AppHost (e.g. <c>Blobs:Durable</c>),
    /// then the provider and either the folder or the Azurite connection string (named <c>blobs</c>), which it waits for.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithBlobStore(this IResourceBuilder<ProjectResource> service, BlobStoreWiring blobs)
    {
        service.WithConfigurationSection(service.ApplicationBuilder.Configuration, "Blobs");
        if (blobs.Azurite is { } azurite)
        {
            return service.WithEnvironment("Blobs__Provider", "azure")
                .WithReference(azurite).WaitFor(azurite);
        }
        return service.WithEnvironment("Blobs__Provider", "filesystem")
            .WithEnvironment("Blobs__Root", blobs.Root!);
    }

    /// <summary>
    /// Runs the service as N replicas, N from the AppHost parameter <paramref name="parameter"/> (e.g.
    /// <c>--Parameters:results-replicas=3</c>; default <paramref name="defaultCount"/>). A deployment manifest carries the
    /// count as that parameter's default (the manifest format has no replica count of its own), and the service gets it
    /// as <c>&lt;Section&gt;__Replicas</c>, so a deployment tool finds it where it finds the service's other settings.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithReplicasParameter(this IResourceBuilder<ProjectResource> service,
        string parameter, int defaultCount)
    {
        var builder = service.ApplicationBuilder;
        var count = builder.Configuration.GetValue($"Parameters:{parameter}", defaultCount);
        if (count < 1) throw new InvalidOperationException($"Parameters:{parameter} must be at least 1, not {count}.");
        var value = builder.AddParameter(parameter, count.ToString(CultureInfo.InvariantCulture), publishValueAsDefault: true);
        return service.WithEnvironment($"{ToSectionName(service.Resource.Name)}__Replicas", value)
            .WithReplicas(count);
    }

    /// <summary>
    /// The Sandbox keeps its state in a folder of the run's data folder; a manifest leaves it to the Sandbox's own
    /// default (<c>Sandbox:DataDirectory</c>, a folder beside it), as this machine's folders mean nothing where it is deployed.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSandboxDataDirectory(this IResourceBuilder<ProjectResource> sandbox, string dataDirectory) =>
        sandbox.ApplicationBuilder.ExecutionContext.IsPublishMode
            ? sandbox
            : sandbox.WithEnvironment("Sandbox__DataDirectory", Path.Combine(dataDirectory, ResourceNames.Sandbox));

    /// <summary>
    /// Passes the AppHost's configuration section (e.g. <c>Sandbox:Faults:*</c> given on the command
    /// line or in appsettings) to the service as environment variables, so one place sets every knob.
    /// </summary>
    public static IResourceBuilder<T> WithConfigurationSection<T>(this IResourceBuilder<T> resource, IConfiguration configuration, string section)
        where T : IResourceWithEnvironment
    {
        foreach (var (key, value) in configuration.GetSection(section).AsEnumerable())
        {
            if (value is not null)
            {
                resource.WithEnvironment(key.Replace(":", "__"), value);
            }
        }
        return resource;
    }

    private static string ToSectionName(string resourceName) => char.ToUpperInvariant(resourceName[0]) + resourceName[1..];
}

internal sealed record ProviderWiring(
    IResourceBuilder<ProjectResource>? Sandbox, string? BaseUrl, IResourceBuilder<ParameterResource>? ApiKey)
{
    public IReadOnlyList<RoutedProviderWiring> Routed { get; init; } = [];

    public IResourceBuilder<ProjectResource>? SandboxForRoutes { get; init; }
}

/// <summary>A routed provider: its name under Providers, and its key's secret parameter (null: it is the Sandbox).</summary>
internal sealed record RoutedProviderWiring(string Name, IResourceBuilder<ParameterResource>? ApiKey);
