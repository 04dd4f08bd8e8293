using BatchAspire.AppHost;
using BatchAspire.AppHost.Infrastructure;
using BatchAspire.AppHost.Jobs;
using BatchAspire.Contracts;
using Microsoft.Extensions.Configuration;

var builder = DistributedApplication.CreateBuilder(args);
var dataDirectory = builder.RunDataDirectory();

var cache = builder.AddBatchRedis(ResourceNames.Cache, dataDirectory);
var messaging = builder.AddBatchRabbitMQ(ResourceNames.Messaging, dataDirectory);
var blobs = builder.AddBatchBlobs(ResourceNames.Blobs, dataDirectory);

var sandbox = builder.AddService<Projects.BatchAspire_Sandbox>(ResourceNames.Sandbox)
    .WithEnvironment("Sandbox__DataDirectory", Path.Combine(dataDirectory, ResourceNames.Sandbox))
    .WithConfigurationSection(builder.Configuration, "Sandbox");

var provider = builder.AddProvider(sandbox);

// The intake is the public endpoint: a stable, documented port (Intake:Port, default 5180).
builder.AddService<Projects.BatchAspire_Intake>(ResourceNames.Intake, port: builder.Configuration.GetValue("Intake:Port", 5180))
    .WithReference(cache).WaitFor(cache)
    .WithReference(messaging).WaitFor(messaging)
    .WithConfigurationSection(builder.Configuration, "Intake")
    .WithRouteTable()
    .WithBlobStore(blobs)
    .WithExternalHttpEndpoints();

builder.AddWorker<Projects.BatchAspire_Submitter>(ResourceNames.Submitter, cache, messaging, provider)
    .WithBlobStore(blobs);

// Pollers scale on their own: replicas share the open chunks through leases in Redis.
var pollerReplicas = builder.AddParameter("poller-replicas", "2", publishValueAsDefault: true);
builder.AddWorker<Projects.BatchAspire_Poller>(ResourceNames.Poller, cache, messaging, provider)
    .WithEnvironment("Poller__Replicas", pollerReplicas)
    .WithReplicas(builder.Configuration.GetValue("Parameters:poller-replicas", 2))
    .WithBlobStore(blobs);

// Results sends the webhooks: their endpoints and secrets (Webhooks:Endpoints, docs/webhooks.md) go only there.
builder.AddWorker<Projects.BatchAspire_Results>(ResourceNames.Results, cache, messaging, provider)
    .WithConfigurationSection(builder.Configuration, "Webhooks")
    .WithBlobStore(blobs);

// Recent jobs as dashboard resources (status, progress, cost, a Cancel command), read through the intake's API.
builder.AddJobsView();

builder.Build().Run();
