using BatchAspire.Sandbox;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Http;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSandbox();

var app = builder.Build();
app.WarmUpSandbox();
app.UseSandboxPipeline();        // x-request-id, error envelopes, bearer auth, injected API faults
app.MapDefaultEndpoints();
app.MapOpenAIApi("/v1");
app.MapOpenAIApi("");            // SDKs pointed at a base URL without /v1 call /files, /batches
app.MapAdminApi();               // /sandbox/faults, /sandbox/stats
app.Run();
