using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

public sealed class FileReadTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task RetrieveReturnsWhatTheUploadReturned()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var uploaded = await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a")));

        var retrieved = await OkJsonAsync(await client.GetAsync($"/v1/files/{uploaded["id"].Str()}", Ct));

        Assert.Equal(uploaded.ToJsonString(), retrieved.ToJsonString());
    }

    [Fact]
    public async Task UnknownFileAnswersTheRealApis404()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.GetAsync("/v1/files/file-doesnotexist", Ct), 404);

        Assert.Equal("""{"message":"No such File object: file-doesnotexist","type":"invalid_request_error","param":"id","code":null}""", error.ToJsonString());
    }

    [Theory]
    [InlineData("application/binary")]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    [InlineData(null)]
    public async Task ContentComesBackByteForByteWhateverTheAcceptHeader(string? accept)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var bytes = Encoding.UTF8.GetBytes(TestJsonl.Request("a") + "\r\n" + TestJsonl.Request("ü") + "\n\n");
        var fileId = (await UploadAsync(client, bytes))["id"].Str();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/files/{fileId}/content");
        if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));

        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task ContentOfAnUnknownFileAnswers404()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        await ErrorAsync(await client.GetAsync("/v1/files/file-doesnotexist/content", Ct), 404);
    }

    [Fact]
    public async Task DeletedFileIsGone()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var fileId = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str();

        var deleted = await OkJsonAsync(await client.DeleteAsync($"/v1/files/{fileId}", Ct));

        Assert.Equal($$"""{"id":"{{fileId}}","object":"file","deleted":true}""", deleted.ToJsonString());
        await ErrorAsync(await client.GetAsync($"/v1/files/{fileId}", Ct), 404);
        await ErrorAsync(await client.DeleteAsync($"/v1/files/{fileId}", Ct), 404);
    }

    [Fact]
    public async Task ListIsNewestFirstAndPagesWithAfterUntilHasMoreIsFalse()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str()!);

        var full = await OkJsonAsync(await client.GetAsync("/v1/files", Ct));
        var seen = new List<string>();
        var hasMore = new List<bool>();
        string? after = null;
        for (var page = 0; page < 5; page++)
        {
            var list = await OkJsonAsync(await client.GetAsync("/v1/files?limit=1" + (after is null ? "" : $"&after={after}"), Ct));
            var data = list["data"]!.AsArray();
            Assert.Single(data);
            Assert.Equal((data[0]!["id"].Str(), data[0]!["id"].Str()), (list["first_id"].Str(), list["last_id"].Str()));
            seen.Add(data[0]!["id"].Str()!);
            hasMore.Add(list["has_more"]!.GetValue<bool>());
            after = list["last_id"].Str();
            if (!hasMore[^1]) break;
        }

        Assert.Equal([ids[2], ids[1], ids[0]], full["data"]!.AsArray().Select(f => f!["id"].Str()));
        Assert.Equal((ids[2], ids[0], false), (full["first_id"].Str(), full["last_id"].Str(), full["has_more"]!.GetValue<bool>()));
        Assert.Equal([ids[2], ids[1], ids[0]], seen);
        Assert.Equal([true, true, false], hasMore);
    }

    [Fact]
    public async Task ListFiltersByPurposeAndOrdersAscending()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var batch1 = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str();
        await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a")), "x.json", "user_data");
        var batch2 = (await UploadAsync(client, TestJsonl.File(TestJsonl.Request("a"))))["id"].Str();

        var batchOnly = await OkJsonAsync(await client.GetAsync("/v1/files?purpose=batch", Ct));
        var ascending = await OkJsonAsync(await client.GetAsync("/v1/files?order=asc", Ct));

        Assert.Equal([batch2, batch1], batchOnly["data"]!.AsArray().Select(f => f!["id"].Str()));
        var created = ascending["data"]!.AsArray().Select(f => f!["created_at"]!.GetValue<long>()).ToList();
        Assert.Equal(created.Order(), created);
        Assert.Equal(batch1, ascending["first_id"].Str());
    }

    [Fact]
    public async Task EmptyListHasNullIds()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var list = await OkJsonAsync(await client.GetAsync("/v1/files", Ct));

        Assert.Equal("""{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}""", list.ToJsonString());
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=10001")]
    [InlineData("limit=ten")]
    [InlineData("order=sideways")]
    public async Task BadListParametersAnswer400NamingThem(string query)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.GetAsync($"/v1/files?{query}", Ct), 400);

        Assert.Equal(query.Split('=')[0], error["param"].Str());
    }
}
