using System.Text.Json.Nodes;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using MassTransit.Testing;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

public sealed class BatchTests(SharedIntake intake)
{
    private static readonly string[] BatchKeys =
    [
        "id", "object", "endpoint", "model", "errors", "input_file_id", "completion_window", "status", "output_file_id", "error_file_id",
        "created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at",
        "request_counts", "usage", "metadata",
        // BatchAspire's extension, after OpenAI's keys (docs/webhooks.md, "Partial results").
        "partial_output",
    ];

    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task ValidCreateAnswersValidatingWithEveryKey()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;

        var batch = await CreateBatchAsync(client, fileId);

        Assert.Equal(BatchKeys, batch.Select(p => p.Key));
        Assert.Matches("^batch_[A-Za-z0-9]{32}$", batch["id"].Str());
        Assert.Equal(("batch", "validating", "/v1/chat/completions", fileId, "24h", "gpt-4o-mini"),
            (batch["object"].Str(), batch["status"].Str(), batch["endpoint"].Str(), batch["input_file_id"].Str(), batch["completion_window"].Str(), batch["model"].Str()));
        Assert.Equal(batch["created_at"]!.GetValue<long>() + 86_400, batch["expires_at"]!.GetValue<long>());
        foreach (var key in new[] { "errors", "output_file_id", "error_file_id", "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at", "metadata" })
            Assert.Null(batch[key]);
        Assert.Equal("""{"total":0,"completed":0,"failed":0}""", batch["request_counts"]!.ToJsonString());
        Assert.Equal("""{"input_tokens":0,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":0}""",
            batch["usage"]!.ToJsonString());
    }

    [Fact]
    public async Task AcceptedJobIsDurableBeforeJobAcceptedIsPublished()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;

        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;

        Assert.True(await _app.Harness.Published.Any<JobAccepted>(m => m.Context.Message.JobId == jobId, Ct));
        await WaitUntilAsync(() => JobAcceptedProbe.JobExisted.ContainsKey(jobId));
        Assert.True(JobAcceptedProbe.JobExisted[jobId]);
        var job = (await new RedisJobStore(intake.Redis.Multiplexer, TimeProvider.System).GetAsync(jobId, Ct))!;
        Assert.Equal(("2", "validating", "gpt-4o-mini"), (job[JobFields.RequestTotal], job.Status, job[JobFields.Model]));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-9a-f]$", job[JobFields.TraceParent]);   // the pipeline continues this trace
        Assert.NotNull(await intake.Redis.Multiplexer.GetDatabase().SortedSetScoreAsync(RedisKeys.ValidatingJobs, jobId));
    }

    [Fact]
    public async Task MetadataIsEchoedOnCreateAndRetrieve()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var metadata = new JsonObject();
        for (var i = 0; i < 16; i++) metadata[$"k{i}"] = $"v{i}";

        var created = await CreateBatchAsync(client, fileId, extra: $",\"metadata\":{metadata.ToJsonString()}");
        var retrieved = await OkJsonAsync(await client.GetAsync($"/v1/batches/{created["id"].Str()}", Ct));

        Assert.Equal(metadata.ToJsonString(), created["metadata"]!.ToJsonString());
        Assert.Equal(metadata.ToJsonString(), retrieved["metadata"]!.ToJsonString());
    }

    [Theory]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/chat/completions","completion_window":"48h"}""", "completion_window")]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/foo","completion_window":"24h"}""", "endpoint")]
    [InlineData("""{"endpoint":"/v1/chat/completions","completion_window":"24h"}""", "input_file_id")]
    [InlineData("""{"input_file_id":"FILE","completion_window":"24h"}""", "endpoint")]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/chat/completions"}""", "completion_window")]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"k":1}}""", "metadata")]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":"x"}""", "metadata")]
    [InlineData("""{"input_file_id":"FILE","endpoint":"/v1/chat/completions","completion_window":"24h","output_expires_after":{"anchor":"created_at","seconds":60}}""", "output_expires_after")]
    public async Task InvalidCreateRequestAnswers400NamingTheParameter(string body, string param)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches", body.Replace("FILE", fileId)), 400);

        Assert.Equal(("invalid_request_error", param), (error["type"].Str(), error["param"].Str()));
    }

    [Theory]
    [InlineData(17, 2, 2)]
    [InlineData(1, 65, 2)]
    [InlineData(1, 2, 513)]
    public async Task OversizedMetadataAnswers400(int pairs, int keyLength, int valueLength)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var metadata = new JsonObject();
        for (var i = 0; i < pairs; i++) metadata[$"{i:D2}".PadRight(keyLength, 'k')] = new string('v', valueLength);

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches",
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{{metadata.ToJsonString()}}}"""), 400);

        Assert.Equal("metadata", error["param"].Str());
    }

    [Fact]
    public async Task UnknownInputFileAnswers404()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches",
            """{"input_file_id":"file-nope","endpoint":"/v1/chat/completions","completion_window":"24h"}"""), 404);

        Assert.Equal("No such File object: file-nope", error["message"].Str());
    }

    [Fact]
    public async Task InputFileWithAnotherPurposeAnswers400()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a")), "x.jsonl", "user_data"))["id"].Str()!;

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches",
            $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}"""), 400);

        Assert.Equal("input_file_id", error["param"].Str());
    }

    [Fact]
    public async Task OutputExpiryIsAcceptedAndStored()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;

        var batch = await CreateBatchAsync(client, fileId, extra: ""","output_expires_after":{"anchor":"created_at","seconds":7200}""");

        var job = (await new RedisJobStore(intake.Redis.Multiplexer, TimeProvider.System).GetAsync(batch["id"].Str()!, Ct))!;
        Assert.Equal("7200", job[JobFields.OutputExpiresAfterSeconds]);
    }

    [Fact]
    public async Task RetrieveRendersUsageCountsAndCostFromTheJobHash()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;
        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        await intake.Redis.Multiplexer.GetDatabase().HashSetAsync(RedisKeys.Job(jobId),
        [
            new(JobFields.Status, JobStatus.InProgress), new(JobFields.InProgressAt, 1_700_000_000), new(JobFields.RequestCompleted, 1),
            new(JobFields.InputTokens, 100), new(JobFields.CachedTokens, 10), new(JobFields.OutputTokens, 50), new(JobFields.ReasoningTokens, 5),
            new(JobFields.CostBatchUsd, "0.5"), new(JobFields.CostStandardUsd, "1.25"),
        ]);

        var batch = await OkJsonAsync(await client.GetAsync($"/v1/batches/{jobId}", Ct));

        Assert.Equal(1_700_000_000, batch["in_progress_at"]!.GetValue<long>());
        Assert.Equal("""{"total":2,"completed":1,"failed":0}""", batch["request_counts"]!.ToJsonString());
        Assert.Equal("""{"input_tokens":100,"input_tokens_details":{"cached_tokens":10},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":5},"total_tokens":150}""",
            batch["usage"]!.ToJsonString());
        Assert.Equal("""{"batch_usd":0.5,"standard_usd":1.25,"savings_usd":0.75}""", batch["cost"]!.ToJsonString());
    }

    [Fact]
    public async Task APlannedJobShowsItsChunkCountersOnRetrieveAndList()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;
        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        var db = intake.Redis.Multiplexer.GetDatabase();
        // What planning and two stored chunk results leave (lib/chunkstats.lua), on a job that is running.
        await db.HashSetAsync(RedisKeys.Job(jobId), JobFields.Status, JobStatus.InProgress);
        await db.HashSetAsync(RedisKeys.JobChunkStats(jobId), [new("chunks", 5), new("done", 3), new("input_tokens", 0)]);

        var retrieved = await OkJsonAsync(await client.GetAsync($"/v1/batches/{jobId}", Ct));
        var listed = (await OkJsonAsync(await client.GetAsync("/v1/batches?limit=1", Ct)))["data"]![0]!;

        Assert.Equal("""{"total":5,"open":2,"done":3}""", retrieved["chunks"]!.ToJsonString());
        Assert.Equal("""{"total":5,"open":2,"done":3}""", listed["chunks"]!.ToJsonString());
        Assert.Equal(jobId, listed["id"].Str());
    }

    [Fact]
    public async Task AnEndedJobHasNoOpenChunksEvenWithChunksClosedWithoutResults()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var jobId = (await CreateBatchAsync(client, fileId))["id"].Str()!;
        var db = intake.Redis.Multiplexer.GetDatabase();
        await db.HashSetAsync(RedisKeys.Job(jobId), JobFields.Status, JobStatus.Cancelled);
        await db.HashSetAsync(RedisKeys.JobChunkStats(jobId), [new("chunks", 4), new("done", 1)]);

        var batch = await OkJsonAsync(await client.GetAsync($"/v1/batches/{jobId}", Ct));

        Assert.Equal("""{"total":4,"open":0,"done":1}""", batch["chunks"]!.ToJsonString());
    }

    [Fact]
    public async Task UnknownBatchAnswers404()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.GetAsync("/v1/batches/batch_doesnotexist", Ct), 404);

        Assert.Equal("invalid_request_error", error["type"].Str());
        await ErrorAsync(await client.PostAsync("/v1/batches/batch_doesnotexist/cancel", null, Ct), 404);
    }

    [Fact]
    public async Task ListDefaultsToTwentyNewestFirst()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var ids = new List<string>();
        for (var i = 0; i < 25; i++) ids.Add((await CreateBatchAsync(client, fileId))["id"].Str()!);

        var list = await OkJsonAsync(await client.GetAsync("/v1/batches", Ct));

        var data = list["data"]!.AsArray().Select(b => b!["id"].Str()).ToList();
        Assert.Equal(Enumerable.Reverse(ids).Take(20), data);
        Assert.Equal((ids[24], ids[5], true), (list["first_id"].Str(), list["last_id"].Str(), list["has_more"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task ListPagesTwoTwoOne()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add((await CreateBatchAsync(client, fileId))["id"].Str()!);

        var pages = new List<(int, bool)>();
        var seen = new List<string>();
        string? after = null;
        for (var page = 0; page < 5; page++)
        {
            var list = await OkJsonAsync(await client.GetAsync("/v1/batches?limit=2" + (after is null ? "" : $"&after={after}"), Ct));
            var data = list["data"]!.AsArray();
            seen.AddRange(data.Select(b => b!["id"].Str()!));
            pages.Add((data.Count, list["has_more"]!.GetValue<bool>()));
            after = list["last_id"].Str();
            if (!pages[^1].Item2) break;
        }

        Assert.Equal([(2, true), (2, true), (1, false)], pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    public async Task BadBatchListLimitAnswers400(string query)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        await ErrorAsync(await client.GetAsync($"/v1/batches?{query}", Ct), 400);
    }

    [Fact]
    public async Task EmptyBatchListHasNoMore()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var list = await OkJsonAsync(await client.GetAsync("/v1/batches", Ct));

        Assert.Equal("""{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""", list.ToJsonString());
    }
}
