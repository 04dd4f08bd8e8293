#pragma warning disable OPENAI001 // the Batch client is experimental in OpenAI 2.15.0
using System.ClientModel;
using System.Text.Json;
using OpenAI.Batch;
using OpenAI.Files;

namespace BatchAspire.Conformance;

/// <summary>
/// Items that need requests to be executed to the end (D36, E43–E49, E54, H69): for any server that
/// runs batches to completion by itself.
/// </summary>
public abstract class RequestExecutionConformance
{
    protected abstract ConformanceTarget Target { get; }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected Task<OpenAIApi> NewAccountAsync() => OpenAIApi.CreateAsync(Target, Ct);

    /// <summary>A line that passes validation but that the chat endpoint answers with HTTP 400.</summary>
    protected static string RejectedLine(string customId) => Jsonl.Chat(customId, "too many tokens asked", maxTokens: 1_000_000);

    [Fact, Trait("conformance", "D36")]
    public async Task OutputExpiresAfterSetsTheResultFileExpiry()
    {
        using var api = await NewAccountAsync();
        var fileId = (await api.UploadAsync(Jsonl.ChatFile(2), ct: Ct)).Str("id");
        var batch = await api.CreateBatchAsync(fileId, outputExpiresAfter: new { anchor = "created_at", seconds = 7200 }, ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        var output = await api.OkJsonAsync(HttpMethod.Get, $"files/{done.Str("output_file_id")}", ct: Ct);
        Assert.Equal(output.Int("created_at") + 7200, output.Int("expires_at"));
    }

    [Fact, Trait("conformance", "E43")]
    public async Task AValidBatchCompletesWithOrderedWriteOnceTimestamps()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(2), ct: Ct);
        var seen = new Dictionary<string, long>();
        JsonElement current;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            current = await api.GetBatchAsync(batch.Str("id"), Ct);
            foreach (var name in Wire.Timestamps)
            {
                if (current.IsNull(name)) Assert.False(seen.ContainsKey(name), $"{name} was set and then cleared");
                else if (seen.TryGetValue(name, out var before)) Assert.Equal(before, current.Int(name));
                else seen[name] = current.Int(name);
            }
            Assert.True(DateTime.UtcNow < deadline, "batch did not complete in time");
            await Task.Delay(20, Ct);
        }
        while (current.Str("status") != "completed");

        var created = current.Int("created_at");
        var inProgress = current.Int("in_progress_at");
        var finalizing = current.Int("finalizing_at");
        var completed = current.Int("completed_at");
        Assert.True(created <= inProgress && inProgress <= finalizing && finalizing <= completed);
        foreach (var name in new[] { "failed_at", "expired_at", "cancelling_at", "cancelled_at" }) Assert.True(current.IsNull(name), name);
    }

    [Fact, Trait("conformance", "E44")]
    public async Task RequestCountsAddUpAtEveryPoll()
    {
        using var api = await NewAccountAsync();
        var lines = Enumerable.Range(0, 3000).Select(i => i % 10 == 0 ? RejectedLine($"r-{i}") : Jsonl.Chat($"r-{i}", $"text {i}"));
        var batch = await api.SubmitAsync(Jsonl.File(lines), ct: Ct);
        JsonElement current;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            current = await api.GetBatchAsync(batch.Str("id"), Ct);
            var (total, completed, failed) = current.Counts();
            if (current.Str("status") != "validating") Assert.Equal(3000, total);
            Assert.True(completed + failed <= total || total == 0 && completed + failed == 0);
            Assert.True(DateTime.UtcNow < deadline, "batch did not complete in time");
            await Task.Delay(10, Ct);
        }
        while (current.Str("status") != "completed");
        var end = current.Counts();
        Assert.Equal(end.Total, end.Completed + end.Failed);
        Assert.Equal(300, end.Failed);
    }

    [Fact, Trait("conformance", "E45")]
    public async Task StatusIsAlwaysAnEnumValueAndTimestampsAreIntegers()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(500), ct: Ct);
        Wire.AssertBatchShape(batch);
        JsonElement current;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        do
        {
            current = await api.GetBatchAsync(batch.Str("id"), Ct);
            Wire.AssertBatchShape(current);
            var list = await api.OkJsonAsync(HttpMethod.Get, "batches?limit=5", ct: Ct);
            foreach (var item in list.GetProperty("data").EnumerateArray()) Wire.AssertBatchShape(item);
            Assert.True(DateTime.UtcNow < deadline, "batch did not finish in time");
        }
        while (current.Str("status") is not ("completed" or "failed" or "expired" or "cancelled"));
    }

    [Fact, Trait("conformance", "E46")]
    public async Task ASuccessfulBatchHasOneOutputLinePerRequestAndNoErrorFile()
    {
        using var api = await NewAccountAsync();
        var ids = Enumerable.Range(0, 20).Select(i => $"req-{i}").ToList();
        var batch = await api.SubmitAsync(Jsonl.File(ids.Select(id => Jsonl.Chat(id, "Say hi"))), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        Assert.True(done.IsNull("error_file_id"));
        var output = await api.OkJsonAsync(HttpMethod.Get, $"files/{done.Str("output_file_id")}", ct: Ct);
        Assert.Equal("batch_output", output.Str("purpose"));
        var lines = await api.ResultLinesAsync(done.Str("output_file_id"), Ct);
        Assert.Equal(ids.Order(), lines.Select(l => l.Str("custom_id")).Order());
        foreach (var line in lines)
        {
            Assert.StartsWith("batch_req_", line.Str("id"));
            Assert.True(line.IsNull("error"));
            var response = line.GetProperty("response");
            Assert.Equal(200, response.Int("status_code"));
            Assert.StartsWith("req_", response.Str("request_id"));
            Assert.Equal(JsonValueKind.Object, response.GetProperty("body").ValueKind);
            Assert.Equal("chat.completion", response.GetProperty("body").Str("object"));
        }
    }

    [Fact, Trait("conformance", "E47")]
    public async Task ARequestAnsweredWith400GoesToTheErrorFileOnly()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.File(Jsonl.Chat("good", "hi"), RejectedLine("bad")), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        Assert.Equal((2, 1, 1), done.Counts());
        var errors = await api.ResultLinesAsync(done.Str("error_file_id"), Ct);
        var line = Assert.Single(errors);
        Assert.Equal("bad", line.Str("custom_id"));
        Assert.True(line.IsNull("error"));
        var response = line.GetProperty("response");
        Assert.Equal(400, response.Int("status_code"));
        response.Str("request_id");
        var error = response.GetProperty("body").GetProperty("error");
        Assert.NotEmpty(error.Str("message"));
        Assert.Equal("invalid_request_error", error.Str("type"));
        var output = await api.ResultLinesAsync(done.Str("output_file_id"), Ct);
        Assert.Equal("good", Assert.Single(output).Str("custom_id"));
    }

    [Fact, Trait("conformance", "E48")]
    public async Task ABatchWhereEveryRequestFailsCompletesWithoutAnOutputFile()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.File(RejectedLine("a"), RejectedLine("b")), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        Assert.True(done.IsNull("output_file_id"));
        Assert.Equal(2, (await api.ResultLinesAsync(done.Str("error_file_id"), Ct)).Count);
    }

    [Fact, Trait("conformance", "E49")]
    public async Task ResultFilesAreCleanJsonl()
    {
        using var api = await NewAccountAsync();
        var lines = Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? RejectedLine($"r{i}") : Jsonl.Chat($"r{i}", $"line\nwith newline {i} \"quoted\""));
        var batch = await api.SubmitAsync(Jsonl.File(lines), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        var output = Wire.ParseJsonl(await api.DownloadAsync(done.Str("output_file_id"), Ct));   // asserts the JSONL shape
        var errors = Wire.ParseJsonl(await api.DownloadAsync(done.Str("error_file_id"), Ct));
        Assert.Equal(200, output.Count + errors.Count);
    }

    [Fact, Trait("conformance", "E54")]
    public async Task CancellingACompletedBatchIs409AndChangesNothing()
    {
        using var api = await NewAccountAsync();
        var batch = await api.SubmitAsync(Jsonl.ChatFile(1), ct: Ct);
        var done = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("completed", done.Str("status"));
        using var response = await api.SendAsync(HttpMethod.Post, $"batches/{batch.Str("id")}/cancel", ct: Ct);
        var error = await Wire.AssertErrorAsync(response, 409);
        Assert.Equal("Cannot cancel a batch with status 'completed'.", error.Str("message"));
        Assert.Equal("false", response.Headers.GetValues("x-should-retry").Single());
        Assert.Equal(done.GetRawText(), (await api.GetBatchAsync(batch.Str("id"), Ct)).GetRawText());
    }

    [Fact, Trait("conformance", "H69")]
    public async Task DotNetSdkUploadsWaitsDownloadsAndPagesWithoutExceptions()
    {
        using var api = await NewAccountAsync();
        var client = api.Sdk();
        var files = client.GetOpenAIFileClient();
        var batches = client.GetBatchClient();
        var path = Path.Combine(Path.GetTempPath(), $"conformance-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllBytesAsync(path, Jsonl.ChatFile(3), Ct);
        try
        {
            OpenAIFile input = await files.UploadFileAsync(path, FileUploadPurpose.Batch);
#pragma warning disable CS0618 // Status is obsolete in 2.15.0, but H69 checks the SDK still parses it
            Assert.Equal(FileStatus.Processed, input.Status);
#pragma warning restore CS0618
            Assert.Equal(FilePurpose.Batch, input.Purpose);

            var created = new List<string>();
            string? outputFileId = null;
            for (var i = 0; i < 3; i++)
            {
                var body = BinaryData.FromObjectAsJson(new { input_file_id = input.Id, endpoint = OpenAIApi.ChatEndpoint, completion_window = "24h" });
                var operation = await batches.CreateBatchAsync(BinaryContent.Create(body), waitUntilCompleted: i == 0, new() { CancellationToken = Ct });
                created.Add(operation.BatchId);
                if (i != 0) continue;
                Assert.True(operation.HasCompleted);
                using var document = JsonDocument.Parse(operation.GetRawResponse().Content);
                Assert.Equal("completed", document.RootElement.Str("status"));
                outputFileId = document.RootElement.Str("output_file_id");
            }

            BinaryData jsonl = await files.DownloadFileAsync(outputFileId!, Ct);
            Assert.Equal(3, Wire.ParseJsonl(jsonl.ToArray()).Count);

            var listed = new List<string>();
            await foreach (BatchJob job in batches.GetBatchesAsync(new BatchCollectionOptions { PageSizeLimit = 2 }, Ct))
            {
                listed.Add(job.Id);
            }
            Assert.Equal(created.Order(), listed.Order());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
