#pragma warning disable OPENAI001 // the Batch client is experimental in OpenAI 2.15.0
using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace BatchAspire.Conformance;

/// <summary>
/// Conformance items of docs/openai/conformance.md that any server of the Files + Batches API owes
/// (A1–A6, B, C, D except the provider limits, E54/E56, F, G62, H70). Only HTTP and the official SDK.
/// </summary>
public abstract class FilesAndBatchesApiConformance
{
    protected abstract ConformanceTarget Target { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected Task<OpenAIApi> NewAccountAsync() => OpenAIApi.CreateAsync(Target, Ct);

    private static byte[] TwoLines => Jsonl.ChatFile(2);

    // ---- A. Transport and routing ----

    [Fact, Trait("conformance", "A1")]
    public async Task EveryOperationAnswersUnderTheV1BaseUrl()
    {
        using var api = await NewAccountAsync();
        var file = await api.UploadAsync(TwoLines, ct: Ct);
        var fileId = file.Str("id");
        await api.OkJsonAsync(HttpMethod.Get, "files", ct: Ct);
        await api.OkJsonAsync(HttpMethod.Get, $"files/{fileId}", ct: Ct);
        Assert.NotEmpty(await api.DownloadAsync(fileId, Ct));
        var batch = await api.CreateBatchAsync(fileId, ct: Ct);
        await api.OkJsonAsync(HttpMethod.Get, "batches", ct: Ct);
        await api.GetBatchAsync(batch.Str("id"), Ct);
        using (var cancel = await api.SendAsync(HttpMethod.Post, $"batches/{batch.Str("id")}/cancel", ct: Ct))
        {
            Assert.Contains((int)cancel.StatusCode, new[] { 200, 409 });   // 409 only if it already finished
        }
        var other = await api.UploadAsync(TwoLines, ct: Ct);
        await api.OkJsonAsync(HttpMethod.Delete, $"files/{other.Str("id")}", ct: Ct);
    }

    [Fact, Trait("conformance", "A2")]
    public async Task EverySuccessfulCallReturnsStatus200Exactly()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var batchId = (await api.CreateBatchAsync(fileId, ct: Ct)).Str("id");
        var calls = new (HttpMethod, string)[]
        {
            (HttpMethod.Get, "files"), (HttpMethod.Get, $"files/{fileId}"), (HttpMethod.Get, $"files/{fileId}/content"),
            (HttpMethod.Get, "batches"), (HttpMethod.Get, $"batches/{batchId}"),
        };
        foreach (var (method, path) in calls)
        {
            using var response = await api.SendAsync(method, path, ct: Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using var upload = await api.SendAsync(HttpMethod.Post, "files", Multipart.PythonShaped(TwoLines, "x.jsonl", "batch"), Ct);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        using var delete = await api.SendAsync(HttpMethod.Delete, $"files/{(await Wire.AssertOkJsonAsync(upload)).Str("id")}", ct: Ct);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        var slowId = (await api.CreateBatchAsync(fileId, ct: Ct)).Str("id");
        using var cancel = await api.SendAsync(HttpMethod.Post, $"batches/{slowId}/cancel", ct: Ct);
        Assert.True(cancel.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict);
    }

    [Fact, Trait("conformance", "A3")]
    public async Task EveryJsonResponseIsTypedApplicationJson()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");   // asserts the header on success
        using var list = await api.SendAsync(HttpMethod.Get, "files", ct: Ct);
        Assert.Equal("application/json", list.Content.Headers.ContentType?.MediaType);
        using var missing = await api.SendAsync(HttpMethod.Get, "batches/batch_doesnotexist", ct: Ct);
        Assert.Equal("application/json", missing.Content.Headers.ContentType?.MediaType);
        using var bad = await api.CreateBatchRawAsync(new { input_file_id = fileId, endpoint = "/v1/foo", completion_window = "24h" }, Ct);
        Assert.Equal("application/json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact, Trait("conformance", "A4")]
    public async Task EveryResponseCarriesAnXRequestId()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        foreach (var path in new[] { "files", $"files/{fileId}", $"files/{fileId}/content", "files/file-doesnotexist", "batches", "nope" })
        {
            using var response = await api.SendAsync(HttpMethod.Get, path, ct: Ct);
            Wire.AssertRequestId(response);
        }
    }

    [Fact, Trait("conformance", "A5")]
    public async Task AnUnknownPathUnderTheBaseUrlIs404WithAnEnvelope()
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Get, "nope", ct: Ct);
        var error = await Wire.AssertErrorAsync(response, 404);
        Assert.Equal("invalid_request_error", error.Str("type"));
    }

    [Fact, Trait("conformance", "A6")]
    public async Task SdkHeadersDoNotChangeTheResult()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var plain = await api.OkJsonAsync(HttpMethod.Get, $"files/{fileId}", ct: Ct);
        using var request = api.Request(HttpMethod.Get, $"files/{fileId}");
        request.Headers.TryAddWithoutValidation("X-Stainless-Lang", "js");
        request.Headers.TryAddWithoutValidation("X-Stainless-Package-Version", "7.57.0");
        request.Headers.TryAddWithoutValidation("X-Stainless-Runtime", "node");
        request.Headers.TryAddWithoutValidation("x-stainless-retry-count", "0");
        request.Headers.TryAddWithoutValidation("OpenAI-Organization", "org-test");
        request.Headers.TryAddWithoutValidation("OpenAI-Project", "proj_test");
        request.Headers.TryAddWithoutValidation("accept-language", "*");
        request.Headers.TryAddWithoutValidation("sec-fetch-mode", "cors");
        using var response = await api.Http.SendAsync(request, Ct);
        var decorated = await Wire.AssertOkJsonAsync(response);
        Assert.Equal(plain.GetRawText(), decorated.GetRawText());
    }

    // ---- B. Upload ----

    [Fact, Trait("conformance", "B8")]
    public async Task PythonShapedUploadReturnsAFileObject()
    {
        using var api = await NewAccountAsync();
        var content = TwoLines;
        using var response = await api.SendAsync(HttpMethod.Post, "files", Multipart.PythonShaped(content, "x.jsonl", "batch"), Ct);
        var file = await Wire.AssertOkJsonAsync(response);
        Assert.Equal("file", file.Str("object"));
        Assert.Matches(Wire.FileId(), file.Str("id"));
        Assert.Equal(content.Length, file.Int("bytes"));
        Assert.Equal("x.jsonl", file.Str("filename"));
        Assert.Equal("batch", file.Str("purpose"));
        Assert.Equal("processed", file.Str("status"));
        Assert.True(file.IsNull("status_details"));
        file.Int("created_at");
    }

    [Fact, Trait("conformance", "B9")]
    public async Task BatchUploadsExpireAfterThirtyDaysByDefault()
    {
        using var api = await NewAccountAsync();
        var file = await api.UploadAsync(TwoLines, ct: Ct);
        Assert.Equal(file.Int("created_at") + 2_592_000, file.Int("expires_at"));
    }

    [Fact, Trait("conformance", "B10")]
    public async Task NodeSevenShapedChunkedUploadWithFileFirstIsAccepted()
    {
        using var api = await NewAccountAsync();
        var content = Jsonl.ChatFile(50);
        using var request = api.Request(HttpMethod.Post, "files", Multipart.NodeSevenShaped(content, "batch_requests.jsonl", "batch"));
        request.Headers.TransferEncodingChunked = true;
        using var response = await api.Http.SendAsync(request, Ct);
        var file = await Wire.AssertOkJsonAsync(response);
        Assert.Equal(content.Length, file.Int("bytes"));
        Assert.Equal("batch", file.Str("purpose"));
    }

    [Fact, Trait("conformance", "B11")]
    public async Task DotNetShapedUploadWithQuotedBoundaryAndUnquotedNamesIsAccepted()
    {
        using var api = await NewAccountAsync();
        var content = TwoLines;
        using var response = await api.SendAsync(HttpMethod.Post, "files", Multipart.DotNetShaped(content, "x.jsonl", "batch"), Ct);
        var file = await Wire.AssertOkJsonAsync(response);
        Assert.Equal(content.Length, file.Int("bytes"));
        Assert.Equal("x.jsonl", file.Str("filename"));
    }

    [Fact, Trait("conformance", "B12")]
    public async Task ExpiresAfterSetsTheFileExpiry()
    {
        using var api = await NewAccountAsync();
        var content = Multipart.Build(Guid.NewGuid().ToString("N"), quoted: false, chunked: false,
            Multipart.Field("purpose", "batch"),
            Multipart.Field("expires_after[anchor]", "created_at"),
            Multipart.Field("expires_after[seconds]", "3600"),
            Multipart.PythonFile(new MemoryStream(TwoLines), "x.jsonl"));
        using var response = await api.SendAsync(HttpMethod.Post, "files", content, Ct);
        var file = await Wire.AssertOkJsonAsync(response);
        Assert.Equal(file.Int("created_at") + 3600, file.Int("expires_at"));
    }

    [Theory, Trait("conformance", "B13")]
    [InlineData("60")]
    [InlineData("2592001")]
    public async Task ExpiresAfterOutOfRangeIs400(string seconds)
    {
        using var api = await NewAccountAsync();
        var content = Multipart.Build(Guid.NewGuid().ToString("N"), quoted: false, chunked: false,
            Multipart.Field("purpose", "batch"),
            Multipart.Field("expires_after[anchor]", "created_at"),
            Multipart.Field("expires_after[seconds]", seconds),
            Multipart.PythonFile(new MemoryStream(TwoLines), "x.jsonl"));
        using var response = await api.SendAsync(HttpMethod.Post, "files", content, Ct);
        await Wire.AssertErrorAsync(response, 400);
    }

    [Fact, Trait("conformance", "B14")]
    public async Task UploadWithoutFileOrPurposeIs400()
    {
        using var api = await NewAccountAsync();
        using var noFile = await api.SendAsync(HttpMethod.Post, "files",
            Multipart.Build(Guid.NewGuid().ToString("N"), false, false, Multipart.Field("purpose", "batch")), Ct);
        await Wire.AssertErrorAsync(noFile, 400);
        using var noPurpose = await api.SendAsync(HttpMethod.Post, "files",
            Multipart.Build(Guid.NewGuid().ToString("N"), false, false, Multipart.PythonFile(new MemoryStream(TwoLines), "x.jsonl")), Ct);
        await Wire.AssertErrorAsync(noPurpose, 400);
    }

    [Fact, Trait("conformance", "B15")]
    public async Task UnknownPurposeIs400InvalidRequest()
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Post, "files", Multipart.PythonShaped(TwoLines, "x.jsonl", "nonsense"), Ct);
        var error = await Wire.AssertErrorAsync(response, 400);
        Assert.Equal("invalid_request_error", error.Str("type"));
    }

    [Fact, Trait("conformance", "B16")]
    public async Task BatchUploadThatIsNotJsonlIs400WithTheRealMessage()
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Post, "files", Multipart.PythonShaped(TwoLines, "data.txt", "batch"), Ct);
        var error = await Wire.AssertErrorAsync(response, 400);
        Assert.Equal("Invalid file format for Batch API. Must be .jsonl", error.Str("message"));
        Assert.True(error.IsNull("param"));
        Assert.True(error.IsNull("code"));
    }

    [Fact, Trait("conformance", "B18")]
    public async Task LinesWithMissingFieldsAreAcceptedAtUpload()
    {
        using var api = await NewAccountAsync();
        var content = Jsonl.File("""{"custom_id":"a","url":"/v1/chat/completions","body":{"model":"m"}}""");
        var file = await api.UploadAsync(content, ct: Ct);
        Assert.Equal("processed", file.Str("status"));
    }

    [Fact, Trait("conformance", "B19")]
    public async Task TwoUploadsOfTheSameBytesGetDifferentIds()
    {
        using var api = await NewAccountAsync();
        var first = await api.UploadAsync(TwoLines, ct: Ct);
        var second = await api.UploadAsync(TwoLines, ct: Ct);
        Assert.NotEqual(first.Str("id"), second.Str("id"));
    }

    // ---- C. File read, list, delete, download ----

    [Fact, Trait("conformance", "C20")]
    public async Task RetrieveReturnsTheSameObjectAsTheUpload()
    {
        using var api = await NewAccountAsync();
        var uploaded = await api.UploadAsync(TwoLines, ct: Ct);
        var retrieved = await api.OkJsonAsync(HttpMethod.Get, $"files/{uploaded.Str("id")}", ct: Ct);
        foreach (var property in uploaded.EnumerateObject())
        {
            Assert.Equal(property.Value.GetRawText(), retrieved.GetProperty(property.Name).GetRawText());
        }
    }

    [Fact, Trait("conformance", "C21")]
    public async Task UnknownFileIs404WithTheRealBody()
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Get, "files/file-doesnotexist", ct: Ct);
        var error = await Wire.AssertErrorAsync(response, 404);
        Assert.Equal("No such File object: file-doesnotexist", error.Str("message"));
        Assert.Equal("invalid_request_error", error.Str("type"));
        Assert.Equal("id", error.Str("param"));
        Assert.True(error.IsNull("code"));
    }

    [Fact, Trait("conformance", "C22")]
    public async Task ContentIsReturnedByteForByteWhateverTheAcceptHeader()
    {
        using var api = await NewAccountAsync();
        var content = Encoding.UTF8.GetBytes(Jsonl.Chat("ü-1", "Grüße, naïve café ☕") + "\n" + Jsonl.Chat("b", "x") + "\n");
        var fileId = (await api.UploadAsync(content, ct: Ct)).Str("id");
        foreach (var accept in new[] { "application/binary", "text/plain", "application/json", null })
        {
            using var request = api.Request(HttpMethod.Get, $"files/{fileId}/content");
            if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            using var response = await api.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(content, await response.Content.ReadAsByteArrayAsync(Ct));
        }
    }

    [Fact, Trait("conformance", "C23")]
    public async Task ContentOfAnUnknownFileIs404()
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Get, "files/file-doesnotexist/content", ct: Ct);
        await Wire.AssertErrorAsync(response, 404);
    }

    [Fact, Trait("conformance", "C24")]
    public async Task DeleteRemovesTheFileAndASecondDeleteIs404()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var deleted = await api.OkJsonAsync(HttpMethod.Delete, $"files/{fileId}", ct: Ct);
        Assert.Equal(fileId, deleted.Str("id"));
        Assert.Equal("file", deleted.Str("object"));
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        using var get = await api.SendAsync(HttpMethod.Get, $"files/{fileId}", ct: Ct);
        await Wire.AssertErrorAsync(get, 404);
        using var again = await api.SendAsync(HttpMethod.Delete, $"files/{fileId}", ct: Ct);
        await Wire.AssertErrorAsync(again, 404);
    }

    [Fact, Trait("conformance", "C25")]
    public async Task FileListHasTheEnvelopeAndIsNewestFirst()
    {
        using var api = await NewAccountAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await api.UploadAsync(TwoLines, ct: Ct)).Str("id"));
            await Task.Delay(1100, Ct);   // distinct created_at seconds make "newest first" observable
        }
        var list = await api.OkJsonAsync(HttpMethod.Get, "files", ct: Ct);
        Assert.Equal("list", list.Str("object"));
        var data = list.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(ids.AsEnumerable().Reverse(), data.Select(f => f.Str("id")));
        Assert.Equal(data[0].Str("id"), list.Str("first_id"));
        Assert.Equal(data[^1].Str("id"), list.Str("last_id"));
        Assert.False(list.GetProperty("has_more").GetBoolean());
        var created = data.Select(f => f.Int("created_at")).ToList();
        Assert.Equal(created.OrderByDescending(c => c), created);
    }

    [Fact, Trait("conformance", "C26")]
    public async Task FileListFiltersByPurposeAndOrdersAscending()
    {
        using var api = await NewAccountAsync();
        var batchFile = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var userFile = (await api.UploadAsync("hello"u8.ToArray(), "notes.txt", "user_data", Ct)).Str("id");
        var batchFile2 = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var batchOnly = await api.OkJsonAsync(HttpMethod.Get, "files?purpose=batch", ct: Ct);
        var purposes = batchOnly.GetProperty("data").EnumerateArray().Select(f => f.Str("purpose")).ToList();
        Assert.Equal(2, purposes.Count);
        Assert.All(purposes, p => Assert.Equal("batch", p));
        var ascending = await api.OkJsonAsync(HttpMethod.Get, "files?order=asc", ct: Ct);
        var data = ascending.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([batchFile, userFile, batchFile2], data.Select(f => f.Str("id")));
        var created = data.Select(f => f.Int("created_at")).ToList();
        Assert.Equal(created.Order(), created);
    }

    [Fact, Trait("conformance", "C27")]
    public async Task FileListPagesWithLimitAndAfter()
    {
        using var api = await NewAccountAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 3; i++) ids.Add((await api.UploadAsync(TwoLines, ct: Ct)).Str("id"));
        var seen = new List<string>();
        string? after = null;
        var hasMore = new List<bool>();
        for (var page = 0; page < 3; page++)
        {
            var list = await api.OkJsonAsync(HttpMethod.Get, after is null ? "files?limit=1" : $"files?limit=1&after={after}", ct: Ct);
            var data = list.GetProperty("data").EnumerateArray().ToList();
            Assert.Single(data);
            seen.Add(data[0].Str("id"));
            Assert.Equal(data[0].Str("id"), list.Str("last_id"));
            hasMore.Add(list.GetProperty("has_more").GetBoolean());
            after = list.Str("last_id");
        }
        Assert.Equal([true, true, false], hasMore);
        Assert.Equal(ids.Order(), seen.Order());
    }

    [Fact, Trait("conformance", "C28")]
    public async Task EmptyFileListHasNullCursors()
    {
        using var api = await NewAccountAsync();
        var list = await api.OkJsonAsync(HttpMethod.Get, "files", ct: Ct);
        Assert.Empty(list.GetProperty("data").EnumerateArray());
        Assert.False(list.GetProperty("has_more").GetBoolean());
        Assert.True(list.IsNull("first_id"));
        Assert.True(list.IsNull("last_id"));
    }

    // ---- D. Batch creation and validation ----

    [Fact, Trait("conformance", "D29")]
    public async Task ValidCreateReturnsABatchObject()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var batch = await api.CreateBatchAsync(fileId, ct: Ct);
        Assert.Equal("batch", batch.Str("object"));
        Assert.Matches(Wire.BatchId(), batch.Str("id"));
        Assert.Equal(OpenAIApi.ChatEndpoint, batch.Str("endpoint"));
        Assert.Equal(fileId, batch.Str("input_file_id"));
        Assert.Equal("24h", batch.Str("completion_window"));
        Assert.Contains(batch.Str("status"), new[] { "validating", "in_progress" });
        Assert.Equal(batch.Int("created_at") + 86_400, batch.Int("expires_at"));
    }

    [Fact, Trait("conformance", "D30")]
    public async Task CreateResponseHasEveryKeyWithNullsAndZeroCounts()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(TwoLines, ct: Ct);
        foreach (var key in new[] { "errors", "output_file_id", "error_file_id", "request_counts", "metadata" }.Concat(Wire.Timestamps))
        {
            Assert.True(batch.TryGetProperty(key, out _), $"missing key '{key}'");
        }
        if (batch.Str("status") == "validating")
        {
            Assert.Equal((0, 0, 0), batch.Counts());
            foreach (var key in new[] { "errors", "output_file_id", "error_file_id", "in_progress_at", "finalizing_at", "completed_at",
                                         "failed_at", "expired_at", "cancelling_at", "cancelled_at", "metadata" })
            {
                Assert.True(batch.IsNull(key), $"'{key}' should be null while validating");
            }
        }
    }

    [Fact, Trait("conformance", "D31")]
    public async Task MetadataIsEchoedExactlyAndNullWhenOmitted()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var metadata = Enumerable.Range(0, 16).ToDictionary(i => $"key{i}", i => $"value {i} ✓");
        var created = await api.CreateBatchAsync(fileId, metadata: metadata, ct: Ct);
        var retrieved = await api.GetBatchAsync(created.Str("id"), Ct);
        foreach (var batch in new[] { created, retrieved })
        {
            var echoed = batch.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
            Assert.Equal(metadata, echoed);
        }
        var plain = await api.CreateBatchAsync(fileId, ct: Ct);
        Assert.True(plain.IsNull("metadata"));
    }

    public static TheoryData<string> BadMetadata => new()
    {
        JsonSerializer.Serialize(Enumerable.Range(0, 17).ToDictionary(i => $"k{i}", i => "v")),
        JsonSerializer.Serialize(new Dictionary<string, string> { [new string('k', 65)] = "v" }),
        JsonSerializer.Serialize(new Dictionary<string, string> { ["k"] = new string('v', 513) }),
        """{"k": 5}""",
    };

    [Theory, Trait("conformance", "D32")]
    [MemberData(nameof(BadMetadata))]
    public async Task InvalidMetadataIs400NamingMetadata(string metadataJson)
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var body = $$"""{"input_file_id":"{{fileId}}","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{{metadataJson}}}""";
        using var response = await api.SendAsync(HttpMethod.Post, "batches", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        var error = await Wire.AssertErrorAsync(response, 400);
        Assert.Equal("metadata", error.Str("param"));
    }

    [Theory, Trait("conformance", "D33")]
    [InlineData("completion_window")]
    [InlineData("endpoint")]
    [InlineData("input_file_id")]
    public async Task InvalidCreateFieldsAre400NamingTheField(string field)
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, ct: Ct)).Str("id");
        var body = new Dictionary<string, object> { ["input_file_id"] = fileId, ["endpoint"] = OpenAIApi.ChatEndpoint, ["completion_window"] = "24h" };
        switch (field)
        {
            case "completion_window": body[field] = "48h"; break;
            case "endpoint": body[field] = "/v1/foo"; break;
            default: body.Remove(field); break;
        }
        using var response = await api.CreateBatchRawAsync(body, Ct);
        var error = await Wire.AssertErrorAsync(response, 400);
        Assert.Equal(field, error.Str("param"));
    }

    [Fact, Trait("conformance", "D34")]
    public async Task CreateWithAnUnknownFileIs404()
    {
        using var api = await NewAccountAsync();
        using var response = await api.CreateBatchRawAsync(new { input_file_id = "file-doesnotexist", endpoint = OpenAIApi.ChatEndpoint, completion_window = "24h" }, Ct);
        var error = await Wire.AssertErrorAsync(response, 404);
        Assert.StartsWith("No such File object: ", error.Str("message"));
    }

    [Fact, Trait("conformance", "D35")]
    public async Task CreateWithANonBatchFileIs400()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(TwoLines, "data.jsonl", "user_data", Ct)).Str("id");
        using var response = await api.CreateBatchRawAsync(new { input_file_id = fileId, endpoint = OpenAIApi.ChatEndpoint, completion_window = "24h" }, Ct);
        await Wire.AssertErrorAsync(response, 400);
    }

    private async Task<JsonElement> FailedBatchAsync(OpenAIApi api, byte[] content)
    {
        var batch = await api.SubmitAsync(content, ct: Ct);
        var failed = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("failed", failed.Str("status"));
        failed.Int("failed_at");
        Assert.True(failed.IsNull("in_progress_at"));
        Assert.Equal("list", failed.GetProperty("errors").Str("object"));
        return failed;
    }

    private static List<JsonElement> Errors(JsonElement batch) => batch.GetProperty("errors").GetProperty("data").EnumerateArray().ToList();

    [Fact, Trait("conformance", "D37")]
    public async Task ALineThatIsNotJsonFailsTheBatchNamingTheLine()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, Jsonl.File(Jsonl.Chat("a", "x"), "{not json", Jsonl.Chat("c", "y")));
        var error = Assert.Single(Errors(failed));
        Assert.Equal("invalid_json_line", error.Str("code"));
        Assert.Equal(2, error.Int("line"));
        Assert.NotEmpty(error.Str("message"));
        Assert.True(error.IsNull("param"));
    }

    [Fact, Trait("conformance", "D38")]
    public async Task ADuplicateCustomIdFailsTheBatchAtTheSecondUse()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, Jsonl.File(Jsonl.Chat("same", "x"), Jsonl.Chat("other", "y"), Jsonl.Chat("same", "z")));
        var error = Assert.Single(Errors(failed));
        Assert.Equal("duplicate_custom_id", error.Str("code"));
        Assert.Equal(3, error.Int("line"));
        Assert.Equal("custom_id", error.Str("param"));
    }

    [Fact, Trait("conformance", "D39")]
    public async Task ALineForAnotherEndpointFailsWithUrlMismatch()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, Jsonl.File(Jsonl.Chat("a", "x"), Jsonl.Chat("b", "y", url: "/v1/embeddings")));
        var error = Assert.Single(Errors(failed));
        Assert.Equal("url_mismatch", error.Str("code"));
        Assert.Contains("does not prefix-match the batch endpoint", error.Str("message"));
        Assert.Equal(2, error.Int("line"));
    }

    [Fact, Trait("conformance", "D40")]
    public async Task TwoModelsInOneFileFailWithModelMismatch()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, Jsonl.File(Jsonl.Chat("a", "x", model: "gpt-5-nano"), Jsonl.Chat("b", "y", model: "gpt-4o-mini")));
        Assert.Equal("model_mismatch", Assert.Single(Errors(failed)).Str("code"));
    }

    [Fact, Trait("conformance", "D41")]
    public async Task AnEmptyInputFileFailsWithEmptyFile()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, []);
        Assert.Equal("empty_file", Assert.Single(Errors(failed)).Str("code"));
    }

    [Theory, Trait("conformance", "D42")]
    [InlineData("method")]
    [InlineData("body")]
    public async Task ALineWithAWrongMethodOrNoBodyFailsNamingLineAndParam(string param)
    {
        using var api = await NewAccountAsync();
        var bad = param == "method"
            ? Jsonl.Chat("b", "y", method: "GET")
            : """{"custom_id":"b","method":"POST","url":"/v1/chat/completions"}""";
        var failed = await FailedBatchAsync(api, Jsonl.File(Jsonl.Chat("a", "x"), bad));
        var error = Assert.Single(Errors(failed));
        Assert.Equal(2, error.Int("line"));
        Assert.Equal(param, error.Str("param"));
    }

    // ---- E54, E56 (no execution needed) ----

    [Fact, Trait("conformance", "E54")]
    public async Task CancellingAFailedBatchIs409AndChangesNothing()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, []);
        using var response = await api.SendAsync(HttpMethod.Post, $"batches/{failed.Str("id")}/cancel", ct: Ct);
        var error = await Wire.AssertErrorAsync(response, 409);
        Assert.Equal("Cannot cancel a batch with status 'failed'.", error.Str("message"));
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        Assert.Equal(failed.GetRawText(), (await api.GetBatchAsync(failed.Str("id"), Ct)).GetRawText());
    }

    [Fact, Trait("conformance", "E56")]
    public async Task AnUnknownBatchIs404ForRetrieveAndCancel()
    {
        using var api = await NewAccountAsync();
        using var get = await api.SendAsync(HttpMethod.Get, "batches/batch_doesnotexist", ct: Ct);
        Assert.Equal("invalid_request_error", (await Wire.AssertErrorAsync(get, 404)).Str("type"));
        using var cancel = await api.SendAsync(HttpMethod.Post, "batches/batch_doesnotexist/cancel", ct: Ct);
        Assert.Equal("invalid_request_error", (await Wire.AssertErrorAsync(cancel, 404)).Str("type"));
    }

    // ---- F. Batch list ----

    private static async Task<List<string>> CreateBatchesAsync(OpenAIApi api, int count)
    {
        var fileId = (await api.UploadAsync(Jsonl.ChatFile(1), ct: Ct)).Str("id");
        var ids = new List<string>();
        for (var i = 0; i < count; i++) ids.Add((await api.CreateBatchAsync(fileId, ct: Ct)).Str("id"));
        return ids;
    }

    [Fact, Trait("conformance", "F57")]
    public async Task BatchListDefaultsToTwentyNewestFirst()
    {
        using var api = await NewAccountAsync();
        var ids = await CreateBatchesAsync(api, 25);
        var list = await api.OkJsonAsync(HttpMethod.Get, "batches", ct: Ct);
        Assert.Equal("list", list.Str("object"));
        var data = list.GetProperty("data").EnumerateArray().Select(b => b.Str("id")).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse().Take(20), data);
        Assert.True(list.GetProperty("has_more").GetBoolean());
        Assert.Equal(data[0], list.Str("first_id"));
        Assert.Equal(data[19], list.Str("last_id"));
    }

    [Fact, Trait("conformance", "F58")]
    public async Task BatchListPagesWithLimitAndAfter()
    {
        using var api = await NewAccountAsync();
        var ids = await CreateBatchesAsync(api, 5);
        var sizes = new List<int>();
        var hasMore = new List<bool>();
        var seen = new List<string>();
        string? after = null;
        do
        {
            var list = await api.OkJsonAsync(HttpMethod.Get, after is null ? "batches?limit=2" : $"batches?limit=2&after={after}", ct: Ct);
            var data = list.GetProperty("data").EnumerateArray().Select(b => b.Str("id")).ToList();
            sizes.Add(data.Count);
            seen.AddRange(data);
            hasMore.Add(list.GetProperty("has_more").GetBoolean());
            Assert.Equal(data[^1], list.Str("last_id"));
            after = list.Str("last_id");
        }
        while (hasMore[^1] && sizes.Count < 10);
        Assert.Equal([2, 2, 1], sizes);
        Assert.Equal([true, true, false], hasMore);
        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
    }

    [Theory, Trait("conformance", "F59")]
    [InlineData(0)]
    [InlineData(101)]
    public async Task BatchListLimitOutOfRangeIs400(int limit)
    {
        using var api = await NewAccountAsync();
        using var response = await api.SendAsync(HttpMethod.Get, $"batches?limit={limit}", ct: Ct);
        await Wire.AssertErrorAsync(response, 400);
    }

    [Fact, Trait("conformance", "F60")]
    public async Task EmptyBatchListHasNoMore()
    {
        using var api = await NewAccountAsync();
        var list = await api.OkJsonAsync(HttpMethod.Get, "batches", ct: Ct);
        Assert.Empty(list.GetProperty("data").EnumerateArray());
        Assert.False(list.GetProperty("has_more").GetBoolean());
    }

    // ---- G62, H70 ----

    [Fact, Trait("conformance", "G62")]
    public async Task ANonTransientErrorTellsClientsNotToRetryAndTheSdkSendsItOnce()
    {
        using var api = await NewAccountAsync();
        var failed = await FailedBatchAsync(api, []);
        var counter = new CountingHandler(new SocketsHttpHandler());
        using var http = new HttpClient(counter);
        var operation = await OpenAI.Batch.CreateBatchOperation.RehydrateAsync(api.Sdk(http).GetBatchClient(), failed.Str("id"), Ct);
        counter.Reset();
        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => operation.CancelAsync(null));
        Assert.Equal(409, thrown.Status);
        Assert.Equal(1, counter.Count);
        Assert.True(thrown.GetRawResponse()!.Headers.TryGetValue("x-should-retry", out var shouldRetry));
        Assert.Equal("false", shouldRetry);
    }

    [Fact, Trait("conformance", "H70")]
    public async Task DotNetSdkGetFileOfAnUnknownIdThrows404()
    {
        using var api = await NewAccountAsync();
        var thrown = await Assert.ThrowsAsync<ClientResultException>(() => api.Sdk().GetOpenAIFileClient().GetFileAsync("file-doesnotexist", Ct));
        Assert.Equal(404, thrown.Status);
        Assert.Contains("No such File object", thrown.Message);
    }
}

/// <summary>Counts the requests an SDK really sends (retries included).</summary>
public sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private int _count;
    public int Count => _count;
    public void Reset() => Interlocked.Exchange(ref _count, 0);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return base.SendAsync(request, cancellationToken);
    }
}
