using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using OpenAI.Files;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

public sealed class UploadTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task PythonShapedUploadStoresTheFileWithThirtyDayExpiry()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var bytes = TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"));

        var file = await UploadAsync(client, bytes);

        Assert.Matches("^file-[A-Za-z0-9]{24}$", file["id"].Str());
        Assert.Equal("file", file["object"].Str());
        Assert.Equal(bytes.Length, file["bytes"]!.GetValue<long>());
        Assert.Equal("x.jsonl", file["filename"].Str());
        Assert.Equal("batch", file["purpose"].Str());
        Assert.Equal("processed", file["status"].Str());
        Assert.Null(file["status_details"]);
        Assert.True(file.ContainsKey("status_details"));
        Assert.Equal(file["created_at"]!.GetValue<long>() + 2_592_000, file["expires_at"]!.GetValue<long>());
    }

    [Fact]
    public async Task NodeSevenShapedChunkedUploadWithTheFileFirstIsStored()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var bytes = TestJsonl.File([.. TestJsonl.VariedRequests(3_000)]);
        var boundary = "openai-" + Guid.NewGuid().ToString("N");
        var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"requests.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.Write(bytes);
        Write($"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--{boundary}--\r\n");
        var content = new StreamContent(new TricklingStream(body.ToArray(), 4_096));   // unknown length: sent chunked
        content.Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={boundary}");

        var file = await OkJsonAsync(await client.PostAsync("/v1/files", content, Ct));

        Assert.Equal(bytes.Length, file["bytes"]!.GetValue<long>());
        Assert.Equal(bytes, await client.GetByteArrayAsync($"/v1/files/{file["id"].Str()}/content", Ct));
    }

    [Fact]
    public async Task DotNetShapedUploadWithQuotedBoundaryAndUnquotedNamesIsStored()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var bytes = TestJsonl.File(TestJsonl.Request("a"));
        var boundary = "aB3=_" + new string('x', 60);
        var raw = $"--{boundary}\r\nContent-Disposition: form-data; name=file; filename=x.jsonl; filename*=utf-8''x.jsonl\r\n\r\n"
            + Encoding.UTF8.GetString(bytes)
            + $"\r\n--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: form-data; name=purpose\r\n\r\nbatch\r\n--{boundary}--\r\n";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(raw));
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary=\"{boundary}\"");

        var file = await OkJsonAsync(await client.PostAsync("/v1/files", content, Ct));

        Assert.Equal(("x.jsonl", (long)bytes.Length), (file["filename"].Str(), file["bytes"]!.GetValue<long>()));
    }

    [Fact]
    public async Task OfficialDotNetSdkUploadsAndReadsBack()
    {
        var files = _app.CreateOpenAIClient(_app.NewTenant().Key).GetOpenAIFileClient();
        var bytes = TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"));

        OpenAIFile file = await files.UploadFileAsync(new MemoryStream(bytes), "requests.jsonl", FileUploadPurpose.Batch, Ct);
        OpenAIFile again = await files.GetFileAsync(file.Id, Ct);
        BinaryData content = await files.DownloadFileAsync(file.Id, Ct);

#pragma warning disable CS0618 // Status is obsolete in the SDK, but it still parses it and throws on unknown values
        Assert.Equal((FileStatus.Processed, FilePurpose.Batch, (long?)bytes.Length), (file.Status, file.Purpose, file.SizeInBytesLong));
#pragma warning restore CS0618
        Assert.Equal(file.Id, again.Id);
        Assert.Equal(bytes, content.ToArray());
    }

    [Fact]
    public async Task ExpiresAfterSetsTheExpiry()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var response = await client.PostAsync("/v1/files",
            PythonUpload(TestJsonl.File(TestJsonl.Request("a")), extra: [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600")]), Ct);

        var file = await OkJsonAsync(response);
        Assert.Equal(file["created_at"]!.GetValue<long>() + 3600, file["expires_at"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("60")]
    [InlineData("2592001")]
    [InlineData("soon")]
    public async Task ExpiresAfterOutOfRangeAnswers400(string seconds)
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        await ErrorAsync(await client.PostAsync("/v1/files",
            PythonUpload(TestJsonl.File(TestJsonl.Request("a")), extra: [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", seconds)]), Ct), 400);
    }

    [Fact]
    public async Task MissingFileAnswers400NamingIt()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var form = new MultipartFormDataContent { { new StringContent("batch"), "purpose" } };

        var error = await ErrorAsync(await client.PostAsync("/v1/files", form, Ct), 400);

        Assert.Equal("file", error["param"].Str());
    }

    [Fact]
    public async Task MissingPurposeAnswers400NamingIt()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var form = new MultipartFormDataContent { { new ByteArrayContent(TestJsonl.File(TestJsonl.Request("a"))), "file", "x.jsonl" } };

        var error = await ErrorAsync(await client.PostAsync("/v1/files", form, Ct), 400);

        Assert.Equal("purpose", error["param"].Str());
    }

    [Fact]
    public async Task UnknownPurposeAnswers400()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(TestJsonl.File(TestJsonl.Request("a")), purpose: "nonsense"), Ct), 400);

        Assert.Equal(("invalid_request_error", "purpose"), (error["type"].Str(), error["param"].Str()));
    }

    [Fact]
    public async Task BatchFileWithoutJsonlExtensionAnswersTheRealApisMessage()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(TestJsonl.File(TestJsonl.Request("a")), filename: "data.txt"), Ct), 400);

        Assert.Equal("Invalid file format for Batch API. Must be .jsonl", error["message"].Str());
        Assert.Null(error["param"]);
        Assert.Null(error["code"]);
    }

    [Fact]
    public async Task LinesWithoutMethodAreAcceptedAtUpload()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var file = await UploadAsync(client, TestJsonl.File("""{"custom_id":"a","url":"/v1/chat/completions","body":{}}""", "not json"));

        Assert.Equal("processed", file["status"].Str());
    }

    [Fact]
    public async Task TwoUploadsOfTheSameBytesGetTwoIds()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var bytes = TestJsonl.File(TestJsonl.Request("a"));

        Assert.NotEqual((await UploadAsync(client, bytes))["id"].Str(), (await UploadAsync(client, bytes))["id"].Str());
    }

    [Fact]
    public async Task OtherPurposesTakeAnyFileName()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);

        var file = await UploadAsync(client, [0x89, 0x50, 0x4e, 0x47, 0, 1, 2], "cat.png", "vision");

        Assert.Equal(("vision", (JsonNode?)null), (file["purpose"].Str(), file["expires_at"]));
    }
}
