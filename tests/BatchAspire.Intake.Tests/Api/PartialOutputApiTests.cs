using BatchAspire.Intake.Batches;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>
/// <c>GET /v1/batches/{batch_id}/partial_output</c> on the wire: its headers, its cursor checks and the batch object's
/// <c>partial_output</c>. What a running job's pages hold is shown through the pipeline in Results.Tests'
/// PartialOutputTests; another tenant's batch is in TenantIsolationTests.
/// </summary>
public sealed class PartialOutputApiTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task ABatchWithNothingFinalYetAnswersAnEmptyPageThatIsNotCompleteAndItsBatchObjectSaysCursorZero()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var batchId = await CreateBatchAsync(client, TestJsonl.Request("a"), TestJsonl.Request("b"));

        var page = await ReadAsync(client, batchId, null);

        Assert.Equal(("", "0", "false"), page);
        var batch = await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct));
        Assert.Equal("""{"object":"batch.partial_output","cursor":"0"}""", batch["partial_output"]!.ToJsonString());
    }

    [Fact]
    public async Task ABatchThatFailedAtValidationIsCompleteAfterOneEmptyPageAndRefusesACursorPastIt()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var batchId = await CreateBatchAsync(client, TestJsonl.Request("a"), TestJsonl.Request("b", url: "/v1/embeddings"));

        Assert.Equal(("", "1", "true"), await ReadAsync(client, batchId, null));
        Assert.Equal(("", "1", "true"), await ReadAsync(client, batchId, "1"));
        Assert.Equal("1", (await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct)))["partial_output"]!["cursor"].Str());
        var error = await ErrorAsync(await client.GetAsync($"/v1/batches/{batchId}/partial_output?after=2", Ct), 400);
        Assert.Equal("after", error["param"].Str());
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("+0")]
    [InlineData("1.0")]
    [InlineData("1")]
    [InlineData("99999999999999999999")]
    public async Task ACursorThatIsNotOneOfTheBatchsIsRefusedNamingAfterAndChangesNothing(string cursor)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var batchId = await CreateBatchAsync(client, TestJsonl.Request("a"));
        var before = (await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct))).ToJsonString();

        var error = await ErrorAsync(await client.GetAsync($"/v1/batches/{batchId}/partial_output?after={Uri.EscapeDataString(cursor)}", Ct), 400);

        Assert.Equal("after", error["param"].Str());
        Assert.Equal("invalid_request_error", error["type"].Str());
        Assert.Equal(before, (await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct))).ToJsonString());
        Assert.Equal(("", "0", "false"), await ReadAsync(client, batchId, null));
    }

    private static async Task<string> CreateBatchAsync(HttpClient client, params string[] lines)
    {
        var fileId = (await UploadAsync(client, TestJsonl.File(lines)))["id"].Str()!;
        return (await Wire.CreateBatchAsync(client, fileId))["id"].Str()!;
    }

    private static async Task<(string Body, string Next, string Complete)> ReadAsync(HttpClient client, string batchId, string? after)
    {
        using var response = await client.GetAsync($"/v1/batches/{batchId}/partial_output{(after is null ? "" : $"?after={after}")}", Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        return (body, response.Headers.GetValues(PartialOutputApi.NextCursorHeader).Single(),
            response.Headers.GetValues(PartialOutputApi.CompleteHeader).Single());
    }
}
