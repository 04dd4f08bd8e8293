using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BatchAspire.Reliability.Tests.Harness;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// The bad-input corpus (<c>Corpus/cases.json</c>, files in <c>Corpus/files</c>): each case is an input a user or an
/// attacker might send, the answer the OpenAI spec (docs/openai/*.md) gives it, and why. Every case is sent to the
/// running intake and must get exactly that answer (status, type, param, code, message, and the line where there is
/// one), and must leave nothing behind: a rejected request changes no Redis key and no listing, a batch that fails
/// validation owns only its job hash (no chunks, nothing queued, nothing at the provider). Inputs the spec lets through
/// (CRLF, BOM, no final newline, trailing blank lines, huge or non-ASCII custom_ids) must be processed correctly.
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public sealed class BadInputCorpusTests(ReliabilityFixture fixture)
{
    private const string Tenant = "corpus";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Cases => [.. CorpusCases.All.Select(c => c.GetProperty("name").GetString()!)];

    [Fact]
    public void CorpusHoldsAtLeastThirtyCasesEachWithAReason()
    {
        Assert.True(CorpusCases.All.Count >= 30, $"{CorpusCases.All.Count} cases");
        Assert.All(CorpusCases.All, c => Assert.False(string.IsNullOrWhiteSpace(c.GetProperty("why").GetString())));
        Assert.Equal(CorpusCases.All.Count, CorpusCases.All.Select(c => c.GetProperty("name").GetString()).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadInputGetsTheSpecsAnswerAndLeavesNothingBehind(string name)
    {
        var c = CorpusCases.All.Single(x => x.GetProperty("name").GetString() == name);
        var expect = c.GetProperty("expect");
        switch (c.GetProperty("kind").GetString())
        {
            case "file": await FileCaseAsync(c, expect); break;
            case "upload": await UploadCaseAsync(c, expect); break;
            case "create": await CreateCaseAsync(c, expect); break;
            case "cancel": await CancelCaseAsync(c, expect); break;
            case "request": await RequestCaseAsync(c, expect); break;
            default: Assert.Fail($"unknown kind in case {name}"); break;
        }
    }

    private async Task FileCaseAsync(JsonElement c, JsonElement expect)
    {
        var content = c.TryGetProperty("generate", out var generate) ? Generate(generate.GetString()!) : CorpusCases.File(c.GetProperty("file").GetString()!);
        var keysBefore = await KeysAsync();

        using var upload = await SendAsync(HttpMethod.Post, "/v1/files", Multipart.Python("batch", "input.jsonl", content));
        Assert.True(upload.IsSuccessStatusCode, $"upload answered {(int)upload.StatusCode}: {await upload.Content.ReadAsStringAsync(Ct)}");
        var fileId = (await JsonAsync(upload)).GetProperty("id").GetString()!;
        using var create = await SendAsync(HttpMethod.Post, "/v1/batches", Json(new { input_file_id = fileId, endpoint = "/v1/chat/completions", completion_window = "24h" }));
        Assert.True(create.IsSuccessStatusCode, $"create answered {(int)create.StatusCode}: {await create.Content.ReadAsStringAsync(Ct)}");
        var job = new SubmittedJob((await JsonAsync(create)).GetProperty("id").GetString()!, Tenant, CustomIdsOf(content));
        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);

        if (expect.GetProperty("batch").GetString() == "completed")
        {
            await JobInvariant.CheckAsync(fixture, job, end, "bad-input corpus (accepted inputs)", Ct);
            return;
        }

        Assert.Equal("failed", end.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Number, end.GetProperty("failed_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, end.GetProperty("in_progress_at").ValueKind);
        Assert.Equal(0, end.GetProperty("request_counts").GetProperty("total").GetInt32());
        var errors = end.GetProperty("errors");
        Assert.Equal("list", errors.GetProperty("object").GetString());
        var actual = errors.GetProperty("data").EnumerateArray().ToList();
        var expected = expect.GetProperty("errors").EnumerateArray().ToList();
        Assert.True(expected.Count == actual.Count, $"errors: {errors}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("code").GetString(), actual[i].GetProperty("code").GetString());
            Assert.Equal(Text(expected[i].GetProperty("param")), Text(actual[i].GetProperty("param")));
            Assert.Equal(Text(expected[i].GetProperty("line")), Text(actual[i].GetProperty("line")));
            Assert.False(string.IsNullOrEmpty(actual[i].GetProperty("message").GetString()));
            if (expected[i].TryGetProperty("message_contains", out var part))
                Assert.Contains(part.GetString()!, actual[i].GetProperty("message").GetString());
        }

        // The failed batch's batch.failed event is recorded with it (durable before any try); this tenant has no webhook
        // endpoint, so the results service's dispatcher forgets it on its next round.
        var db = fixture.Redis.GetDatabase();
        Assert.True(await Jobs.WaitUntilAsync(async () => !await db.KeyExistsAsync($"ba:{{{job.BatchId}}}:event")
                && await db.SortedSetScoreAsync("ba:webhooks:due", job.BatchId) is null,
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), Ct), "the batch.failed event no endpoint wants was never forgotten");

        // The failed batch owns its job hash and its input file, nothing else: no chunk, no queue entry, no provider batch.
        // (The file sequence, the expiry index, the tenant's usage and the webhook due set are shared keys.)
        var added = (await KeysAsync()).Except(keysBefore).ToList();
        Assert.All(added, key => Assert.True(key == $"ba:{{{job.BatchId}}}:job" || key.StartsWith($"ba:file:{fileId}", StringComparison.Ordinal)
            || key == $"ba:tenant:{Tenant}:files" || key == $"ba:tenant:{Tenant}:batches" || key == $"ba:tenant:{Tenant}:usage"
            || key == "ba:seq" || key == "ba:files:expiring" || key == "ba:webhooks:due",
            $"left behind: {key}"));
        Assert.Null(await db.SortedSetScoreAsync("ba:jobs:validating", job.BatchId));
        Assert.Null(await db.SortedSetScoreAsync("ba:jobs:open", job.BatchId));
        Assert.Empty(await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct));
    }

    private async Task UploadCaseAsync(JsonElement c, JsonElement expect)
    {
        HttpContent body;
        if (c.TryGetProperty("raw_body", out var raw))
        {
            body = new ByteArrayContent(Encoding.UTF8.GetBytes(raw.GetString()!));
        }
        else
        {
            var parts = c.GetProperty("parts").EnumerateArray().Select(p => p.TryGetProperty("file", out var f)
                ? (p.GetProperty("name").GetString()!, p.GetProperty("filename").GetString()!, CorpusCases.File(f.GetString()!))
                : (p.GetProperty("name").GetString()!, (string?)null, Encoding.UTF8.GetBytes(p.GetProperty("value").GetString()!))).ToList();
            body = Multipart.Build(parts, close: !c.TryGetProperty("close", out var close) || close.GetBoolean());
        }
        if (c.TryGetProperty("content_type", out var contentType))
        {
            body.Headers.Remove("Content-Type");
            body.Headers.TryAddWithoutValidation("Content-Type", contentType.GetString());
        }

        await AssertRejectedLeavingNothingAsync(() => SendAsync(HttpMethod.Post, "/v1/files", body), expect);
    }

    private async Task CreateCaseAsync(JsonElement c, JsonElement expect)
    {
        var input = await InputFileAsync(c.GetProperty("input").GetString()!);
        var json = c.GetProperty("body").GetRawText().Replace("{{input}}", input, StringComparison.Ordinal);
        await AssertRejectedLeavingNothingAsync(() => SendAsync(HttpMethod.Post, "/v1/batches", Raw(json, "application/json")), expect);
    }

    private async Task CancelCaseAsync(JsonElement c, JsonElement expect)
    {
        var batchId = c.GetProperty("batch").GetString() switch
        {
            "completed" => await FinishedBatchAsync(valid: true),
            "failed" => await FinishedBatchAsync(valid: false),
            _ => "batch_doesnotexist",
        };
        using var before = await SendAsync(HttpMethod.Get, $"/v1/batches/{batchId}");
        var batchBefore = before.IsSuccessStatusCode ? (await JsonAsync(before)).GetRawText() : null;

        await AssertRejectedLeavingNothingAsync(() => SendAsync(HttpMethod.Post, $"/v1/batches/{batchId}/cancel", Raw("", "application/json")), expect);

        if (batchBefore is not null)
        {
            using var after = await SendAsync(HttpMethod.Get, $"/v1/batches/{batchId}");
            Assert.Equal(batchBefore, (await JsonAsync(after)).GetRawText());
        }
    }

    private async Task RequestCaseAsync(JsonElement c, JsonElement expect)
    {
        var method = new HttpMethod(c.GetProperty("method").GetString()!);
        var content = c.TryGetProperty("body", out var body) ? Raw(body.GetString()!, c.GetProperty("content_type").GetString()!) : null;
        await AssertRejectedLeavingNothingAsync(() => SendAsync(method, c.GetProperty("path").GetString()!, content), expect);
    }

    /// <summary>Sends the request and checks the OpenAI error envelope; no Redis key and no listing of the tenant may change.</summary>
    private async Task AssertRejectedLeavingNothingAsync(Func<Task<HttpResponseMessage>> send, JsonElement expect)
    {
        await WaitForEarlierJobsToSettleAsync();
        var keysBefore = await KeysAsync();
        var filesBefore = await ListIdsAsync("/v1/files?limit=10000");
        var batchesBefore = await ListIdsAsync("/v1/batches?limit=100");

        using var response = await send();
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expect.GetProperty("status").GetInt32() == (int)response.StatusCode, $"answered {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.TryGetValues("x-request-id", out var requestIds) && requestIds.Single().Length > 0, "no x-request-id");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal(["code", "message", "param", "type"], error.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(expect.GetProperty("type").GetString(), error.GetProperty("type").GetString());
        Assert.True(Text(expect.GetProperty("param")) == Text(error.GetProperty("param")), $"param: {text}");
        Assert.True(Text(expect.GetProperty("code")) == Text(error.GetProperty("code")), $"code: {text}");
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrEmpty(message));
        if (expect.TryGetProperty("message", out var exact)) Assert.Equal(exact.GetString(), message);
        if (expect.TryGetProperty("message_contains", out var part)) Assert.Contains(part.GetString()!, message);
        if (expect.TryGetProperty("header", out var headers))
        {
            foreach (var header in headers.EnumerateObject())
                Assert.Equal(header.Value.GetString(), response.Headers.TryGetValues(header.Name, out var v) ? v.Single() : null);
        }

        Assert.Equal(keysBefore.Order(StringComparer.Ordinal), (await KeysAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(filesBefore, await ListIdsAsync("/v1/files?limit=10000"));
        Assert.Equal(batchesBefore, await ListIdsAsync("/v1/batches?limit=100"));
    }

    /// <summary>The file a create case names: uploaded by this tenant, by another, deleted, of the wrong purpose, or none.</summary>
    private async Task<string> InputFileAsync(string kind)
    {
        var valid = CorpusCases.File("valid-for-rejections.jsonl");
        switch (kind)
        {
            case "none":
                return "file-doesnotexist";
            case "other-tenant":
                return await fixture.Sdk("bravo").UploadAsync(new MemoryStream(valid), "bravo.jsonl", Ct);
            case "batch-output":
                using (var batch = await SendAsync(HttpMethod.Get, $"/v1/batches/{await FinishedBatchAsync(valid: true)}"))
                    return (await JsonAsync(batch)).GetProperty("output_file_id").GetString()!;
        }
        using var upload = await SendAsync(HttpMethod.Post, "/v1/files",
            Multipart.Python(kind == "user-data" ? "user_data" : "batch", "input.jsonl", valid));
        var fileId = (await JsonAsync(upload)).GetProperty("id").GetString()!;
        if (kind == "deleted")
        {
            using var deleted = await SendAsync(HttpMethod.Delete, $"/v1/files/{fileId}");
            Assert.True(deleted.IsSuccessStatusCode);
        }
        return fileId;
    }

    /// <summary>A batch of this tenant that has ended: completed (two valid requests) or failed (validation).</summary>
    private async Task<string> FinishedBatchAsync(bool valid)
    {
        var sdk = fixture.Sdk(Tenant);
        var content = CorpusCases.File(valid ? "valid-for-rejections.jsonl" : "invalid-json.jsonl");
        var fileId = await sdk.UploadAsync(new MemoryStream(content), "finished.jsonl", Ct);
        var job = new SubmittedJob(await sdk.CreateBatchAsync(fileId, Ct), Tenant, []);
        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);
        Assert.Equal(valid ? "completed" : "failed", end.GetProperty("status").GetString());
        return job.BatchId;
    }

    /// <summary>10 MB on one line (over Intake:MaxLineBytes), made here rather than kept in the repository.</summary>
    private static byte[] Generate(string what)
    {
        Assert.Equal("ten-megabyte-line", what);
        var first = CorpusCases.File("valid-for-rejections.jsonl").AsSpan();
        first = first[..(first.IndexOf((byte)'\n') + 1)];
        var big = Encoding.UTF8.GetBytes("{\"custom_id\":\"big\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"messages\":[{\"role\":\"user\",\"content\":\""
            + new string('x', 10 * 1024 * 1024) + "\"}]}}\n");
        return [.. first, .. big];
    }

    /// <summary>The custom_ids of a request file's lines, as a reader that skips a BOM and blank lines sees them.</summary>
    private static List<string> CustomIdsOf(byte[] content)
    {
        var ids = new List<string>();
        foreach (var raw in Encoding.UTF8.GetString(content).Split('\n'))
        {
            var line = raw.TrimStart('\uFEFF').Trim();
            if (line.Length == 0) continue;
            try
            {
                if (JsonDocument.Parse(line).RootElement is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String)
                    ids.Add(id.GetString()!);
            }
            catch (JsonException)
            {
            }
        }
        return ids;
    }

    /// <summary>
    /// Earlier jobs' webhook events are delivered or forgotten on the dispatcher's own clock, and the due set's key goes
    /// when the last one does: wait until none is left, so a key that comes or goes during the request can only be the
    /// request's doing.
    /// </summary>
    private async Task WaitForEarlierJobsToSettleAsync()
    {
        var db = fixture.Redis.GetDatabase();
        Assert.True(await Jobs.WaitUntilAsync(async () => !await db.KeyExistsAsync("ba:webhooks:due"),
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100), Ct), "earlier jobs' webhook events were never delivered or forgotten");
    }

    private async Task<HashSet<string>> KeysAsync()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var key in fixture.Redis.GetServers()[0].KeysAsync(pattern: "ba:*", pageSize: 1000))
        {
            if (key != "ba:seq") keys.Add(key!);
        }
        return keys;
    }

    private async Task<List<string>> ListIdsAsync(string path)
    {
        using var response = await SendAsync(HttpMethod.Get, path);
        response.EnsureSuccessStatusCode();
        return [.. (await JsonAsync(response)).GetProperty("data").EnumerateArray().Select(x => x.GetProperty("id").GetString()!)];
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var http = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.KeyOf(Tenant));
        return await http.SendAsync(request, Ct);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.Clone();

    private static ByteArrayContent Json(object body) => Raw(JsonSerializer.Serialize(body), "application/json");

    private static ByteArrayContent Raw(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static string? Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        _ => value.GetRawText(),
    };
}

/// <summary>The corpus on disk, next to the test assembly.</summary>
internal static class CorpusCases
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static IReadOnlyList<JsonElement> All { get; } =
        [.. JsonDocument.Parse(System.IO.File.ReadAllBytes(Path.Combine(Folder, "cases.json"))).RootElement.EnumerateArray().Select(e => e.Clone())];

    public static byte[] File(string name) => System.IO.File.ReadAllBytes(Path.Combine(Folder, "files", name));
}
