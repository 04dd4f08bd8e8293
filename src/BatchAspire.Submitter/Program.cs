using BatchAspire.Contracts;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRedisClient(ResourceNames.Cache);
builder.AddBlobStore();                                   // payload: uploaded files (filesystem or Azure Blob Storage)
builder.Services.AddBatchStores();                        // files and jobs: metadata in Redis, payload in blobs
builder.AddProviderClient();                              // the provider's Files and Batches APIs through the OpenAI SDK
builder.AddSubmitter();                                   // planning, submitting, the delayed-chunk sweeper
builder.AddBatchBus(bus => bus.AddSubmitterConsumers());  // JobAccepted, ChunkReady, RequestsRetryable, JobCancelRequested

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
