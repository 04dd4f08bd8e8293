using System.Text.Json.Nodes;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>
/// Content errors do not fail <c>POST /batches</c>: the batch is stored and returned <c>failed</c> with
/// <c>errors.data[]</c> naming each problem and its 1-based line (docs/openai/batches.md §6.2).
/// </summary>
public sealed class BatchValidationTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task LineThatIsNotJsonFailsTheBatchNamingLineTwo()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), "{\"custom_id\": \"b\",", TestJsonl.Request("c")));

        Assert.Equal("""[{"code":"invalid_json_line","message":"This line is not parseable as valid JSON.","param":null,"line":2}]""", Errors(batch));
        AssertFailedAtValidation(batch);
    }

    [Fact]
    public async Task DuplicateCustomIdFailsTheBatchNamingTheRepeat()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"), TestJsonl.Request("a")));

        Assert.Equal([("duplicate_custom_id", "custom_id", 3L)], Items(batch));
    }

    [Fact]
    public async Task UrlNotMatchingTheEndpointFailsTheBatch()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b", url: "/v1/embeddings")));

        Assert.Equal([("url_mismatch", "url", 2L)], Items(batch));
        Assert.Contains("does not prefix-match the batch endpoint", batch["errors"]!["data"]![0]!["message"].Str());
    }

    [Fact]
    public async Task TwoModelsFailTheBatchAtTheFirstLineOfTheSecond()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a", "gpt-4o"), TestJsonl.Request("b", "gpt-4o"), TestJsonl.Request("c", "gpt-4o-mini")));

        Assert.Equal([("model_mismatch", "body.model", 3L)], Items(batch));
    }

    [Fact]
    public async Task MissingModelFailsAChatBatch()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"),
            """{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"messages":[]}}"""));

        Assert.Equal([("missing_required_parameter", "body.model", 2L)], Items(batch));
    }

    [Fact]
    public async Task MissingModelIsFineWhereTheEndpointHasADefault()
    {
        var batch = await CreateAsync(TestJsonl.File("""{"custom_id":"a","method":"POST","url":"/v1/moderations","body":{"input":"hi"}}"""), "/v1/moderations");

        Assert.Equal("validating", batch["status"].Str());
        Assert.Null(batch["model"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n\n\r\n")]
    public async Task EmptyFileFailsTheBatch(string content)
    {
        var batch = await CreateAsync(Encoding.UTF8.GetBytes(content));

        Assert.Equal([("empty_file", (string?)null, (long?)null)], batch["errors"]!["data"]!.AsArray()
            .Select(e => (e!["code"].Str()!, e["param"].Str(), (long?)e["line"]?.GetValue<long>())));
    }

    [Fact]
    public async Task MoreRequestsThanTheLimitFailTheBatch()
    {
        var batch = await CreateAsync(TestJsonl.File([.. Enumerable.Range(0, 1_001).Select(i => TestJsonl.Request($"r{i}"))]));

        Assert.Equal("too_many_tasks", batch["errors"]!["data"]![0]!["code"].Str());
    }

    [Fact]
    public async Task WrongMethodAndMissingBodyAreReportedWithLineAndParam()
    {
        var batch = await CreateAsync(TestJsonl.File(
            TestJsonl.Request("a"),
            """{"custom_id":"b","method":"GET","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}""",
            """{"custom_id":"c","method":"POST","url":"/v1/chat/completions"}"""));

        Assert.Equal([("invalid_value", "method", 2L), ("missing_required_parameter", "body", 3L)], Items(batch));
    }

    [Fact]
    public async Task MissingOrEmptyCustomIdIsReported()
    {
        var batch = await CreateAsync(TestJsonl.File(
            """{"method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}""",
            """{"custom_id":"","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini"}}"""));

        Assert.Equal([("missing_required_parameter", "custom_id", 1L), ("invalid_value", "custom_id", 2L)], Items(batch));
    }

    [Fact]
    public async Task BodyThatIsNotAnObjectIsReported()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), """{"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":[1]}"""));

        Assert.Equal([("invalid_value", "body", 2L)], Items(batch));
    }

    [Fact]
    public async Task LineOverTheLineLimitIsReported()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b", content: new string('x', 100_000))));

        Assert.Equal([("request_too_large", (string?)null, 2L)], batch["errors"]!["data"]!.AsArray()
            .Select(e => (e!["code"].Str()!, e["param"].Str(), e["line"]!.GetValue<long>())));
    }

    [Fact]
    public async Task BlankLineInsideTheFileIsAnInvalidJsonLine()
    {
        var batch = await CreateAsync(TestJsonl.File(TestJsonl.Request("a"), "", TestJsonl.Request("c")));

        Assert.Equal([("invalid_json_line", (string?)null, 2L)], batch["errors"]!["data"]!.AsArray()
            .Select(e => (e!["code"].Str()!, e["param"].Str(), e["line"]!.GetValue<long>())));
    }

    [Fact]
    public async Task EveryErrorOfAFileIsReportedInLineOrder()
    {
        var batch = await CreateAsync(TestJsonl.File(
            TestJsonl.Request("a"),
            "nope",
            TestJsonl.Request("a"),
            TestJsonl.Request("d", url: "/v1/completions"),
            TestJsonl.Request("e", model: "other")));

        Assert.Equal([2L, 3L, 4L, 5L], batch["errors"]!["data"]!.AsArray().Select(e => e!["line"]!.GetValue<long>()));
    }

    [Fact]
    public async Task FailedBatchIsStoredAndReadsBackFailed()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File("x")))["id"].Str()!;
        var created = await CreateBatchAsync(client, fileId);

        var retrieved = await OkJsonAsync(await client.GetAsync($"/v1/batches/{created["id"].Str()}", Ct));

        Assert.Equal(created.ToJsonString(), retrieved.ToJsonString());
    }

    private async Task<JsonObject> CreateAsync(byte[] file, string endpoint = "/v1/chat/completions")
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, file))["id"].Str()!;
        return await CreateBatchAsync(client, fileId, endpoint);
    }

    private static string Errors(JsonObject batch) => batch["errors"]!["data"]!.ToJsonString();

    private static IEnumerable<(string, string?, long)> Items(JsonObject batch)
    {
        Assert.Equal("list", batch["errors"]!["object"].Str());
        return batch["errors"]!["data"]!.AsArray().Select(e => (e!["code"].Str()!, e["param"].Str(), e["line"]!.GetValue<long>()));
    }

    private static void AssertFailedAtValidation(JsonObject batch)
    {
        Assert.Equal("failed", batch["status"].Str());
        Assert.NotNull(batch["failed_at"]);
        Assert.Null(batch["in_progress_at"]);
        Assert.Equal("""{"total":0,"completed":0,"failed":0}""", batch["request_counts"]!.ToJsonString());
    }
}
