using System.Text.Json.Nodes;
using BatchAspire.Core.Files;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>Another tenant's ids answer exactly as unknown ids do, on every endpoint.</summary>
public sealed class TenantIsolationTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task EveryEndpointAnswersAnotherTenantsIdsExactlyAsUnknownIds()
    {
        using var owner = _app.CreateClient(_app.NewTenant().Key);
        using var other = _app.CreateClient(_app.NewTenant().Key);
        var fileBytes = TestJsonl.File(TestJsonl.Request("a"));
        var fileId = (await UploadAsync(owner, fileBytes))["id"].Str()!;
        var batchId = (await CreateBatchAsync(owner, fileId))["id"].Str()!;
        var unknownFile = OpaqueIds.NewFileId();
        var unknownBatch = OpaqueIds.NewJobId();

        (string Method, string Path, string? Json)[] calls =
        [
            ("GET", "/v1/files/{file}", null),
            ("GET", "/v1/files/{file}/content", null),
            ("DELETE", "/v1/files/{file}", null),
            ("GET", "/v1/files?after={file}", null),
            ("POST", "/v1/batches", """{"input_file_id":"{file}","endpoint":"/v1/chat/completions","completion_window":"24h"}"""),
            ("GET", "/v1/batches/{batch}", null),
            ("POST", "/v1/batches/{batch}/cancel", null),
            ("GET", "/v1/batches?after={batch}", null),
            ("GET", "/v1/batches/{batch}/partial_output", null),
            ("GET", "/v1/batches/{batch}/partial_output?after=0", null),
            ("GET", "/v1/batches/{batch}/partial_output?after=x", null),
            ("GET", "/files/{file}", null),
            ("GET", "/batches/{batch}", null),
        ];
        foreach (var (method, path, json) in calls)
        {
            var foreign = await SendAsync(other, method, path, json, fileId, batchId);
            var unknown = await SendAsync(other, method, path, json, unknownFile, unknownBatch);

            Assert.Equal((404, unknown.Body.Replace(unknownFile, "ID").Replace(unknownBatch, "ID")),
                (foreign.Status, foreign.Body.Replace(fileId, "ID").Replace(batchId, "ID")));
        }

        Assert.Empty((await OkJsonAsync(await other.GetAsync("/v1/files", Ct)))["data"]!.AsArray());
        Assert.Empty((await OkJsonAsync(await other.GetAsync("/v1/batches", Ct)))["data"]!.AsArray());
        Assert.Equal(fileBytes, await owner.GetByteArrayAsync($"/v1/files/{fileId}/content", Ct));
        Assert.Equal("validating", (await OkJsonAsync(await owner.GetAsync($"/v1/batches/{batchId}", Ct)))["status"].Str());
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpClient client, string method, string path, string? json, string fileId, string batchId)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("{file}", fileId).Replace("{batch}", batchId));
        if (json is not null) request.Content = new StringContent(json.Replace("{file}", fileId), Encoding.UTF8, "application/json");
        using var response = await client.SendAsync(request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        JsonNode.Parse(body);   // always an envelope
        return ((int)response.StatusCode, body);
    }
}
