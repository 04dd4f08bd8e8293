using System.Text.Json.Nodes;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

public sealed class CancelTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task CancellingAValidatingBatchAnswersCancellingAndPublishesTheRequest()
    {
        var (client, batchId) = await NewBatchAsync();

        var cancelled = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct));

        Assert.Equal("cancelling", cancelled["status"].Str());
        Assert.NotNull(cancelled["cancelling_at"]);
        Assert.True(await _app.Harness.Published.Any<JobCancelRequested>(m => m.Context.Message.JobId == batchId, Ct));
    }

    [Theory]
    [InlineData("in_progress")]
    [InlineData("finalizing")]
    public async Task ActiveBatchesMoveToCancelling(string status)
    {
        var (client, batchId) = await NewBatchAsync(status);

        var cancelled = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct));

        Assert.Equal("cancelling", cancelled["status"].Str());
    }

    [Fact]
    public async Task PythonShapedCancelWithJsonContentTypeAndEmptyBodyWorks()
    {
        var (client, batchId) = await NewBatchAsync();
        var content = new ByteArrayContent([]);
        content.Headers.ContentType = new("application/json");

        var cancelled = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", content, Ct));

        Assert.Equal("cancelling", cancelled["status"].Str());
    }

    [Fact]
    public async Task CancellingTwiceChangesNothing()
    {
        var (client, batchId) = await NewBatchAsync();
        var first = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct));
        await Task.Delay(1100, Ct);   // a second later, so a rewritten cancelling_at would show

        var second = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct));

        Assert.Equal(first.ToJsonString(), second.ToJsonString());
    }

    [Fact]
    public async Task CancellingACancelledBatchAnswersItUnchanged()
    {
        var (client, batchId) = await NewBatchAsync("cancelled");
        var before = await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct));

        var after = await OkJsonAsync(await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct));

        Assert.Equal(before.ToJsonString(), after.ToJsonString());
    }

    [Theory]
    [InlineData("completed")]
    [InlineData("failed")]
    [InlineData("expired")]
    public async Task CancellingAFinishedBatchAnswers409WithoutRetry(string status)
    {
        var (client, batchId) = await NewBatchAsync(status);

        var response = await client.PostAsync($"/v1/batches/{batchId}/cancel", null, Ct);

        var error = await ErrorAsync(response, 409);
        Assert.Equal($"Cannot cancel a batch with status '{status}'.", error["message"].Str());
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        var batch = await OkJsonAsync(await client.GetAsync($"/v1/batches/{batchId}", Ct));
        Assert.Equal((status, (JsonNode?)null), (batch["status"].Str(), batch["cancelling_at"]));
    }

    private async Task<(HttpClient Client, string BatchId)> NewBatchAsync(string? status = null)
    {
        var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var batchId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        if (status is not null)
            await intake.Redis.Multiplexer.GetDatabase().HashSetAsync(RedisKeys.Job(batchId), JobFields.Status, status);
        return (client, batchId);
    }
}
