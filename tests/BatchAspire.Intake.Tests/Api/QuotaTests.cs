using System.Net.Http.Headers;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>
/// Per-tenant quotas with small defaults, on an intake with its own Redis database and blob store so every key and blob can be
/// counted. Each test takes a fresh tenant, whose usage starts at zero.
/// </summary>
public sealed class QuotaTests(RedisFixture fixture) : IAsyncLifetime
{
    private const long MaxStoredBytes = 200_000;
    private const long MaxFiles = 3;
    private const long MaxOpenBatches = 2;
    private const long MaxPendingRequests = 25;
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _app = new IntakeApp(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Intake:Quotas:Default:MaxStoredBytes"] = MaxStoredBytes.ToString(),
            ["Intake:Quotas:Default:MaxFiles"] = MaxFiles.ToString(),
            ["Intake:Quotas:Default:MaxOpenBatches"] = MaxOpenBatches.ToString(),
            ["Intake:Quotas:Default:MaxPendingRequests"] = MaxPendingRequests.ToString(),
            // One tenant with a limit of its own and one with none: what an entry leaves out stays the default's.
            [$"Intake:Quotas:Tenants:{IntakeApp.TenantOf(IntakeApp.KeyCount - 1)}:MaxFiles"] = "-1",
        });
        _ = _app.Server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task AnUploadPastTheStorageQuotaIsRefusedNamingTheLimitAndLeavesNothing()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var file = FileOfAbout(MaxStoredBytes * 2 / 5);   // two fit, a third does not
        var first = await UploadAsync(client, file);
        await UploadAsync(client, file);
        var before = await StateAsync();

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(file), Ct), 400);

        Assert.Equal("quota_exceeded", error["code"].Str());
        Assert.Equal("invalid_request_error", error["type"].Str());
        Assert.Contains($"at most {MaxStoredBytes} bytes", error["message"].Str());
        Assert.Equal(before, await StateAsync());
        // Deleting a file makes room again.
        await OkJsonAsync(await client.DeleteAsync($"/v1/files/{first["id"].Str()}", Ct));
        await UploadAsync(client, file);
    }

    [Fact]
    public async Task AnUploadStreamedPastTheStorageQuotaIsStoppedBeforeItEnds()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var big = TestJsonl.File([.. TestJsonl.VariedRequests(2_000)]);
        Assert.True(big.Length > MaxStoredBytes);
        var before = await StateAsync();
        // Announced without a length, so only the stream can tell.
        var body = PythonBody(big, out var type);
        var content = new StreamContent(new MemoryStream(body));
        content.Headers.ContentType = type;

        var error = await ErrorAsync(await client.PostAsync("/v1/files", content, Ct), 400);

        Assert.Equal("quota_exceeded", error["code"].Str());
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task AnUploadPastTheFileCountQuotaIsRefusedAndOneUnderItWorks()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var small = TestJsonl.File(TestJsonl.Request("a"));
        for (var i = 0; i < MaxFiles; i++) await UploadAsync(client, small);
        var before = await StateAsync();

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(small), Ct), 400);

        Assert.Equal("quota_exceeded", error["code"].Str());
        Assert.Contains($"at most {MaxFiles} files", error["message"].Str());
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task ATenantWhoseEntryLiftsALimitIsNotHeldByIt()
    {
        using var client = _app.CreateClient(IntakeApp.KeyOf(IntakeApp.KeyCount - 1));
        var small = TestJsonl.File(TestJsonl.Request("a"));

        for (var i = 0; i < MaxFiles + 2; i++) await UploadAsync(client, small);
    }

    [Fact]
    public async Task ABatchPastTheOpenBatchQuotaAnswers429WithRetryAfterAndCreatesNothing()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))))["id"].Str()!;
        for (var i = 0; i < MaxOpenBatches; i++) await CreateBatchAsync(client, fileId);
        var before = await StateAsync();

        using var response = await PostJsonAsync(client, "/v1/batches", $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h"}""");
        var error = await ErrorAsync(response, 429);

        Assert.Equal("quota_exceeded", error["code"].Str());
        Assert.Contains($"at most {MaxOpenBatches} batches", error["message"].Str());
        Assert.Equal(TimeSpan.FromSeconds(30), response.Headers.RetryAfter?.Delta);
        Assert.Equal(before, await StateAsync());
        var listed = await OkJsonAsync(await client.GetAsync("/v1/batches", Ct));
        Assert.Equal((int)MaxOpenBatches, listed["data"]!.AsArray().Count);
    }

    [Fact]
    public async Task ABatchPastThePendingRequestQuotaIsRefusedAndASmallerOneFits()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var twenty = (await UploadAsync(client, TestJsonl.File([.. TestJsonl.VariedRequests(20)])))["id"].Str()!;
        var ten = (await UploadAsync(client, TestJsonl.File([.. TestJsonl.VariedRequests(10)])))["id"].Str()!;
        var five = (await UploadAsync(client, TestJsonl.File([.. TestJsonl.VariedRequests(5)])))["id"].Str()!;
        await CreateBatchAsync(client, twenty);
        var before = await StateAsync();

        var error = await ErrorAsync(await PostJsonAsync(client, "/v1/batches",
            $$"""{"input_file_id":"{{ten}}","endpoint":"/v1/chat/completions","completion_window":"24h"}"""), 429);

        Assert.Equal("quota_exceeded", error["code"].Str());
        Assert.Contains($"at most {MaxPendingRequests} requests in progress and has 20; this batch adds 10", error["message"].Str());
        Assert.Equal(before, await StateAsync());
        await CreateBatchAsync(client, five);
    }

    [Fact]
    public async Task ABatchThatFailsValidationDoesNotCountAsOpenWork()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var broken = (await UploadAsync(client, "not json\n"u8.ToArray()))["id"].Str()!;

        for (var i = 0; i < MaxOpenBatches + 1; i++)
            Assert.Equal("failed", (await CreateBatchAsync(client, broken))["status"].Str());
    }

    private Task<string> StateAsync() => _app.StoredStateAsync(_redis);

    private static byte[] FileOfAbout(long bytes)
    {
        var lines = new List<string>();
        long size = 0;
        foreach (var line in TestJsonl.VariedRequests(10_000))
        {
            if (size + line.Length + 1 > bytes) break;
            lines.Add(line);
            size += line.Length + 1;
        }
        return TestJsonl.File([.. lines]);
    }
}
