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
    .WithSandboxDataDirectory(dataDirectory)
    .WithConfigurationSection(builder.Configuration, "Sandbox");

var provider = builder.AddProvider(sandbox);
if (provider.Sandbox is null) sandbox.ExcludeFromManifest();   // a deployment with a real provider has no Sandbox to deploy

// Every service scales on its own (parameters <name>-replicas): replicas share work only through Redis (leases,
// atomic scripts) and RabbitMQ (one queue per consumer, competing consumers), never with each other.

// The intake is the public endpoint: a stable, documented port (Intake:Port, default 5180). With several replicas
// Aspire's proxy listens on that port and spreads connections over them; any replica serves any request.
builder.AddService<Projects.BatchAspire_Intake>(ResourceNames.Intake, port: builder.Configuration.GetValue("Intake:Port", 5180))
    .WithReference(cache).WaitFor(cache)
    .WithReference(messaging).WaitFor(messaging)
    .WithConfigurationSection(builder.Configuration, "Intake")
    .WithRouteTable()
    .WithBlobStore(blobs)
    .WithExternalHttpEndpoints()
    .WithReplicasParameter("intake-replicas", 1);

builder.AddWorker<Projects.BatchAspire_Submitter>(ResourceNames.Submitter, cache, messaging, provider)
    .WithBlobStore(blobs)
    .WithReplicasParameter("submitter-replicas", 1);

builder.AddWorker<Projects.BatchAspire_Poller>(ResourceNames.Poller, cache, messaging, provider)
    .WithBlobStore(blobs)
    .WithReplicasParameter("poller-replicas", 2);

// Results sends the webhooks: their endpoints and secrets (Webhooks:Endpoints, docs/webhooks.md) go only there.
builder.AddWorker<Projects.BatchAspire_Results>(ResourceNames.Results, cache, messaging, provider)
    .WithConfigurationSection(builder.Configuration, "Webhooks")
    .WithBlobStore(blobs)
    .WithReplicasParameter("results-replicas", 1);

// Recent jobs as dashboard resources (status, progress, cost, a Cancel command), read through the intake's API.
builder.AddJobsView();

builder.Build().Run();
