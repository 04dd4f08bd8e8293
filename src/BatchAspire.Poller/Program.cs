using BatchAspire.Contracts;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRedisClient(ResourceNames.Cache);
builder.AddBatchBus();               // publish-only: ChunkFinished
builder.AddProviderClient();         // the provider's Batches API through the OpenAI SDK
builder.AddPoller();                 // the poll loop over the Redis schedule

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
