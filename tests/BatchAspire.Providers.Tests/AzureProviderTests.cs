using System.Collections.Concurrent;
using System.Text.Json;
using BatchAspire.Core.Routing;
using BatchAspire.Providers.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BatchAspire.Providers.Tests;

/// <summary>
/// A provider of kind azure (docs/providers.md, "Azure OpenAI"): the OpenAI SDK pointed at a resource's v1 surface, with
/// the key in the <c>api-key</c> header. A fake resource records what reaches it; the Sandbox's Azure surface takes the
/// same client end to end.
/// </summary>
public sealed class AzureProviderTests : IAsyncLifetime
{
    private const string AzureKey = "azure-key-5e0c2d9b";
    private const string OpenAIKey = "sk-test-default-1a2b";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeProvider _resource = null!;
    private readonly SandboxServer _sandbox = new();
    private readonly ConcurrentQueue<(string Method, string Path, string Authorization, string ApiKey, string Body)> _requests = new();
    private readonly List<IHost> _hosts = [];

    public async ValueTask InitializeAsync()
    {
        await _sandbox.InitializeAsync();
        _resource = await FakeProvider.StartAsync();
        _resource.Intercept = async context =>
        {
            var path = context.Request.Path.Value ?? "";
            var body = context.Request.Method == "POST" && path.EndsWith("/batches", StringComparison.Ordinal)
                ? await new StreamReader(context.Request.Body).ReadToEndAsync(Ct) : "";
            _requests.Enqueue((context.Request.Method, path, context.Request.Headers.Authorization.ToString(),
                context.Request.Headers["api-key"].ToString(), body));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(path.EndsWith("/files", StringComparison.Ordinal)
                ? """{"id":"file-az1","object":"file","bytes":3,"created_at":1700000000,"filename":"c.jsonl","purpose":"batch","status":"processed"}"""
                : """{"id":"batch_az1","object":"batch","endpoint":"/chat/completions","input_file_id":"file-az1","completion_window":"24h","status":"validating","created_at":1700000000,"request_counts":{"total":0,"completed":0,"failed":0},"metadata":{"batchaspire_job":"batch_j"}}""");
            return true;
        };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.StopAsync(Ct);
            host.Dispose();
        }
        await _resource.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    private async Task<ProviderDirectory> DirectoryAsync(string azureBaseUrl, string defaultBaseUrl)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Provider:BaseUrl"] = defaultBaseUrl,
            ["Provider:ApiKey"] = OpenAIKey,
            ["Providers:az:Kind"] = "azure",
            ["Providers:az:BaseUrl"] = azureBaseUrl,
            ["Providers:az:ApiKey"] = AzureKey,
            ["Routing:Routes:gpt-5-nano:0:Provider"] = "az",
            ["Routing:Routes:gpt-5-nano:0:Model"] = "contoso-batch",
        });
        builder.AddServiceDefaults();
        builder.AddProviderClient();
        var host = builder.Build();
        _hosts.Add(host);
        await host.StartAsync(Ct);
        return host.Services.GetRequiredService<ProviderDirectory>();
    }

    [Fact]
    public async Task TheAzureClientSendsTheKeyAsApiKeyNeverAsBearerToTheResourcesV1Paths()
    {
        // Azure's guides give the v1 surface with a trailing slash.
        var directory = await DirectoryAsync(new Uri(_resource.Root, "openai/v1/").ToString(), _resource.BaseUrl.ToString());
        var azure = directory.Get("az");
        var metadata = new Dictionary<string, string> { ["batchaspire_job"] = "batch_j" };

        var fileId = await azure.Commands!.UploadAsync(new MemoryStream("{}\n"u8.ToArray()), "c.jsonl", Ct);
        await azure.Commands.CreateBatchAsync(fileId, azure.CreateEndpoint("/v1/chat/completions"), metadata, Ct);
        await azure.Batches!.GetBatchAsync("batch_az1", Ct);
        await directory.Default.Batches!.GetBatchAsync("batch_default", Ct);

        var requests = _requests.ToArray();
        Assert.Equal(
            [("POST", "/openai/v1/files"), ("POST", "/openai/v1/batches"), ("GET", "/openai/v1/batches/batch_az1"), ("GET", "/v1/batches/batch_default")],
            requests.Select(r => (r.Method, r.Path)));
        Assert.All(requests[..3], r => Assert.Equal((AzureKey, ""), (r.ApiKey, r.Authorization)));
        Assert.Equal(("", $"Bearer {OpenAIKey}"), (requests[3].ApiKey, requests[3].Authorization));   // the OpenAI provider is unchanged
        using var create = JsonDocument.Parse(requests[1].Body);
        Assert.Equal("/chat/completions", create.RootElement.GetProperty("endpoint").GetString());   // Azure's guide's create form
        Assert.Equal(ProviderKinds.Azure, azure.Kind);
        Assert.Equal("contoso-batch", Assert.Single(directory.RouteOf("gpt-5-nano")).Model);
    }

    [Fact]
    public async Task TheSandboxsAzureSurfaceTakesTheAzureClientAndRefusesTheSameCallsWithBearer()
    {
        var directory = await DirectoryAsync(new Uri(_sandbox.RootUrl, "openai/v1").ToString(), new Uri(_sandbox.RootUrl, "v1").ToString());
        var azure = directory.Get("az");
        var line = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"contoso-batch","messages":[{"role":"user","content":"Hi"}]}}""";

        var fileId = await azure.Commands!.UploadAsync(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(line + "\n")), "c.jsonl", Ct);
        var created = await azure.Commands.CreateBatchAsync(fileId, azure.CreateEndpoint("/v1/chat/completions"), new Dictionary<string, string>(), Ct);
        var polled = await azure.Batches!.GetBatchAsync(created.Id, Ct);
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Bearer", AzureKey);
        using var bearer = await http.GetAsync(new Uri(_sandbox.RootUrl, "openai/v1/batches/" + created.Id), Ct);

        Assert.Equal(created.Id, polled.Id);
        Assert.Equal(401, (int)bearer.StatusCode);
    }
}
