using BatchAspire.Contracts;
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

    public async ValueTask InitializeAsync()
    {
        App = await StartAsync(DataDirectory, []);
    }

    /// <summary>Builds and starts an AppHost on its own data folder, then waits (bounded) until every resource is healthy.</summary>
    public static async Task<DistributedApplication> StartAsync(string dataDirectory, string[] extraArgs)
    {
        string[] args = ["Infra:Mode=process", $"Infra:DataDirectory={dataDirectory}", .. extraArgs];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(args);
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
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

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(nameof(AppHostCollection))]
public sealed class AppHostCollection : ICollectionFixture<AppHostFixture>;
