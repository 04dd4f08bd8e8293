using BatchAspire.Contracts;
using BatchAspire.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// One running AppHost (local redis-server and rabbitmq-server, no container runtime) shared by a
/// test collection. Tests isolate themselves with fresh tenants and ids, never by restarting it.
/// </summary>
public sealed class AppHostFixture : IAsyncLifetime
{
    public static readonly string[] AllResources =
        [ResourceNames.Cache, ResourceNames.Messaging, ResourceNames.Sandbox, ResourceNames.Intake,
         ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];

    public DistributedApplication App { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-e2e-").FullName;

    /// <summary>Receives every service's traces and logs (the AppHost points OTLP here instead of a dashboard).</summary>
    public OtlpReceiver Telemetry { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Telemetry = await OtlpReceiver.StartAsync();
        // Eight attempts: with 10% of lines failing at random (FaultJobTests), a request failing every
        // attempt is a one-in-10^8 event instead of a flaky test. Refused creates come back within
        // seconds instead of the production back-off of 30 s doubling.
        App = await StartAsync(DataDirectory,
            ["Results:MaxAttempts=8", "Submitter:RefusalDelay=00:00:01", "Submitter:MaxRefusalDelay=00:00:04",
             "Dashboard:Jobs:Interval=00:00:00.250"],
            Telemetry.Endpoint);
    }

    /// <summary>Builds and starts an AppHost on its own data folder, then waits (bounded) until every resource is healthy.</summary>
    public static async Task<DistributedApplication> StartAsync(string dataDirectory, string[] extraArgs, string? otlpEndpoint = null)
    {
        string[] args = ["Infra:Mode=process", $"Infra:DataDirectory={dataDirectory}", .. extraArgs];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(args);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (otlpEndpoint is not null)
        {
            // The testing builder runs no dashboard: point every service's OTLP export at the test instead.
            foreach (var project in builder.Resources.OfType<ProjectResource>().ToList())
            {
                builder.CreateResourceBuilder(project)
                    .WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", otlpEndpoint)
                    .WithEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
                    .WithEnvironment("OTEL_BSP_SCHEDULE_DELAY", "500")
                    .WithEnvironment("OTEL_BLRP_SCHEDULE_DELAY", "500");
            }
        }
        var app = await builder.BuildAsync();
        await app.StartAsync().WaitAsync(TimeSpan.FromMinutes(3));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        foreach (var resource in AllResources)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
        }
        return app;
    }

    public HttpClient CreateIntakeClient() => App.CreateHttpClient(ResourceNames.Intake, "http");

    public HttpClient CreateSandboxClient() => App.CreateHttpClient(ResourceNames.Sandbox, "http");

    /// <summary>The intake's base URL as a user would give it to an SDK (ends in /v1).</summary>
    public Uri IntakeBaseUrl => new(App.GetEndpoint(ResourceNames.Intake, "http"), "v1");

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        if (Telemetry is not null)
        {
            await Telemetry.DisposeAsync();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(nameof(AppHostCollection))]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>;
