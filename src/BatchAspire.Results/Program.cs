using BatchAspire.Contracts;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRedisClient(ResourceNames.Cache);
builder.AddBlobStore();                                 // payload: result runs and output files (filesystem or Azure)
builder.Services.AddBatchStores();                      // files and jobs: metadata in Redis, payload in blobs
builder.AddProviderClient();                            // downloads and cancels through the OpenAI SDK
builder.AddResults();                                   // chunk results, job assembly, pricing, the expiry sweeper, webhooks
builder.AddBatchBus(bus => bus.AddResultsConsumers());  // ChunkFinished, ChunkClosed

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
