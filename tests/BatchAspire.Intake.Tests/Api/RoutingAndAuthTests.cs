using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

public sealed class RoutingAndAuthTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Theory]
    [InlineData("/v1")]
    [InlineData("")]
    public async Task EveryOperationAnswers200WithJsonAndARequestId(string prefix)
    {
        var (_, key) = _app.NewTenant();
        using var client = _app.CreateClient(key);
        var file = TestJsonl.File(TestJsonl.Request("a"));

        var upload = await client.PostAsync($"{prefix}/files", PythonUpload(file), Ct);
        var fileId = (await OkJsonAsync(upload))["id"].Str();
        var create = await PostJsonAsync(client, $"{prefix}/batches", $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        var batchId = (await OkJsonAsync(create))["id"].Str();
        HttpResponseMessage[] responses =
        [
            upload, create,
            await client.GetAsync($"{prefix}/files", Ct),
            await client.GetAsync($"{prefix}/files/{fileId}", Ct),
            await client.GetAsync($"{prefix}/files/{fileId}/content", Ct),
            await client.GetAsync($"{prefix}/batches", Ct),
            await client.GetAsync($"{prefix}/batches/{batchId}", Ct),
            await client.PostAsync($"{prefix}/batches/{batchId}/cancel", null, Ct),
            await client.DeleteAsync($"{prefix}/files/{fileId}", Ct),
        ];

        foreach (var response in responses)
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            Assert.False(string.IsNullOrEmpty(response.Headers.GetValues("x-request-id").Single()));
        }
        Assert.All(responses.Where(r => !r.RequestMessage!.RequestUri!.AbsolutePath.EndsWith("/content")),
            r => Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task UnknownRouteAnswers404Envelope()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.GetAsync("/v1/nope", Ct), 404);

        Assert.Equal("invalid_request_error", error["type"].Str());
    }

    [Fact]
    public async Task WrongMethodAnswers405Envelope()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        await ErrorAsync(await client.PutAsync("/v1/files", new StringContent("x"), Ct), 405);
    }

    [Fact]
    public async Task MissingKeyAnswers401InvalidApiKey()
    {
        using var client = _app.CreateClient();

        var error = await ErrorAsync(await client.GetAsync("/v1/batches", Ct), 401);

        Assert.Equal("invalid_api_key", error["code"].Str());
    }

    [Fact]
    public async Task UnknownKeyAnswers401InvalidApiKey()
    {
        using var client = _app.CreateClient("sk-not-a-key");

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(TestJsonl.File(TestJsonl.Request("a"))), Ct), 401);

        Assert.Equal("invalid_api_key", error["code"].Str());
        Assert.DoesNotContain("sk-not-a-key", error["message"].Str());
    }

    [Fact]
    public async Task UnknownRouteWithoutKeyStillAnswersWithAnEnvelope()
    {
        using var client = _app.CreateClient();

        await ErrorAsync(await client.GetAsync("/v1/nope", Ct), 404);
    }

    [Fact]
    public async Task DevelopmentKeyWorksInDevelopment()
    {
        using var client = _app.CreateClient("ba-dev-key");

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/v1/batches", Ct)).StatusCode);
    }

    [Fact]
    public async Task SdkHeadersChangeNothing()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/files");
        request.Headers.Add("X-Stainless-Lang", "python");
        request.Headers.Add("OpenAI-Organization", "org-x");
        request.Headers.Add("OpenAI-Project", "proj-x");
        request.Headers.Add("accept-language", "*");
        request.Headers.Add("sec-fetch-mode", "cors");

        var list = await OkJsonAsync(await client.SendAsync(request, Ct));

        Assert.Empty(list["data"]!.AsArray());
    }

    [Fact]
    public async Task MalformedJsonBodyAnswers400Envelope()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches", "{\"input_file_id\":"), 400);

        Assert.Equal("invalid_request_error", error["type"].Str());
    }

    [Fact]
    public async Task OpenApiDocumentDescribesTheApi()
    {
        using var client = _app.CreateClient();

        var document = await OkJsonAsync(await client.GetAsync("/openapi/v1.json", Ct));

        var paths = document["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("/v1/files", paths);
        Assert.Contains("/v1/files/{file_id}/content", paths);
        Assert.Contains("/v1/batches/{batch_id}/cancel", paths);
        Assert.DoesNotContain("/files", paths);
    }
}

public sealed class ProductionAuthTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);
        _app = new IntakeApp(_redis.ConnectionString, environment: "Production");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task DevelopmentKeyIsRefusedOutsideDevelopment()
    {
        using var client = _app.CreateClient("ba-dev-key");

        var error = await ErrorAsync(await client.GetAsync("/v1/batches", Ct), 401);

        Assert.Equal("invalid_api_key", error["code"].Str());
    }

    [Fact]
    public async Task ConfiguredKeysWorkOutsideDevelopment()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/v1/files", Ct)).StatusCode);
    }
}
