using System.Text.Json.Nodes;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>Where a routed batch's requests ran: the cost per provider on the batch object, and each request's provider.</summary>
public sealed class ProviderLedgerApiTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task RetrieveShowsTheCostOfEachProviderTheRequestsRanAt()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;
        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        // What results writes when a routed job ends (JobFinalizer, results/commit.lua).
        await intake.Redis.Multiplexer.GetDatabase().HashSetAsync(RedisKeys.Job(jobId),
        [
            new(JobFields.Status, JobStatus.Completed), new(JobFields.CostBatchUsd, "0.75"), new(JobFields.CostStandardUsd, "1.5"),
            new(JobFields.CostProviders, ProviderLedger.Format(
            [
                new ProviderLedgerEntry("openai-a", 1, 0, new TokenUsage(100, 10, 50, 0), new JobCost(0.25, 0.5)),
                new ProviderLedgerEntry("claude", 1, 0, new TokenUsage(200, 0, 80, 0), new JobCost(0.5, 1.0)),
            ])),
        ]);

        var batch = await OkJsonAsync(await client.GetAsync($"/v1/batches/{jobId}", Ct));

        Assert.Equal(
            """{"batch_usd":0.75,"standard_usd":1.5,"savings_usd":0.75,"providers":[""" +
            """{"provider":"openai-a","completed":1,"failed":0,"input_tokens":100,"cached_tokens":10,"output_tokens":50,"batch_usd":0.25,"standard_usd":0.5},""" +
            """{"provider":"claude","completed":1,"failed":0,"input_tokens":200,"cached_tokens":0,"output_tokens":80,"batch_usd":0.5,"standard_usd":1}]}""",
            batch["cost"]!.ToJsonString());
    }

    [Fact]
    public async Task EachRequestIsListedWithTheProviderOfTheLastChunkThatCarriedIt()
    {
        var owner = _app.NewTenant();
        using var client = _app.CreateClient(owner.Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"), TestJsonl.Request("c"))))["id"].Str()!;
        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        var db = intake.Redis.Multiplexer.GetDatabase();
        // Three lines planned at openai-a; line 1 handed on to claude in a retry chunk (what the chunk scripts leave).
        var (planned, retry) = (ChunkIds.Create(jobId, 0), ChunkIds.Create(jobId, 1));
        await db.HashSetAsync(RedisKeys.Chunk(planned),
            [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkFields.First, 0), new(ChunkFields.Count, 3), new(ChunkFields.Provider, "openai-a")]);
        await db.HashSetAsync(RedisKeys.Chunk(retry),
            [new(ChunkFields.Kind, ChunkKinds.List), new(ChunkFields.Count, 1), new(ChunkFields.Provider, "claude"), new(ChunkFields.Attempt, 2)]);
        await db.StringSetAsync(RedisKeys.ChunkLines(retry), ChunkStore.PackLines([1]));
        await db.ListRightPushAsync(RedisKeys.JobChunks(jobId), [planned, retry]);

        var response = await client.GetAsync($"/v1/batches/{jobId}/providers", Ct);
        var lines = (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using var stranger = _app.CreateClient(_app.NewTenant().Key);
        var foreign = await stranger.GetAsync($"/v1/batches/{jobId}/providers", Ct);

        Assert.Equal("application/jsonl", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
        [
            """{"custom_id":"a","line":1,"provider":"openai-a"}""",
            """{"custom_id":"b","line":2,"provider":"claude"}""",
            """{"custom_id":"c","line":3,"provider":"openai-a"}""",
        ], lines);
        await ErrorAsync(foreign, 404);
    }
}
