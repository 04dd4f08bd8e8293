using BatchAspire.Sandbox;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Http;
using BatchAspire.Sandbox.Messages;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSandbox();

var app = builder.Build();
app.WarmUpSandbox();
app.UseSandboxPipeline();        // x-request-id, error envelopes, bearer / x-api-key auth, injected API faults
app.MapDefaultEndpoints();
app.MapOpenAIApi("/v1");
app.MapOpenAIApi("");            // SDKs pointed at a base URL without /v1 call /files, /batches
app.MapOpenAIApi(AzureSurface.Prefix);   // an Azure OpenAI resource's v1 surface, /openai/v1 (api-key header, 100,000 lines)
app.MapMessageBatchesApi();      // Anthropic's Message Batches API, /v1/messages/batches
app.MapAdminApi();               // /sandbox/faults, /sandbox/stats
app.Run();
