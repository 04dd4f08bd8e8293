using BatchAspire.Contracts;
using BatchAspire.Intake;
using BatchAspire.Intake.Batches;
using BatchAspire.Intake.Errors;
using BatchAspire.Intake.Files;
using BatchAspire.Intake.Monitoring;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRedisClient(ResourceNames.Cache);
builder.AddBlobStore();                      // payload: uploaded and output files (filesystem or Azure)
builder.AddBatchBus();                       // publish-only: JobAccepted, JobCancelRequested
builder.AddIntake();                         // options, API keys, stores, JSON, OpenAPI, upload sockets, sweepers
builder.AddOperatorGauges();                 // jobs, requests, provider batches, poll lag, quotas: read from Redis every 5 s

var app = builder.Build();
app.UseOpenAIErrors();                       // x-request-id, and the OpenAI error envelope for every failure
app.UseAuthentication();
app.UseAuthorization();
app.MapDefaultEndpoints();
app.MapOpenApi();                            // /openapi/v1.json
app.MapFilesApi();                           // /v1/files and /files
app.MapBatchesApi();                         // /v1/batches and /batches
app.Run();
