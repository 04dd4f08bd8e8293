using System.ClientModel;
using System.Text.Json;
using OpenAI.Batch;
using OpenAI.Files;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>The official .NET SDK (2.15.0) against the intake: what "works with the SDK" means.</summary>
public sealed class SdkTests(SharedIntake intake)
{
    private readonly IntakeApp _app = intake.App;

    [Fact]
    public async Task SdkCreatesRetrievesAndCancelsABatch()
    {
        var client = _app.CreateOpenAIClient(_app.NewTenant().Key);
        OpenAIFile file = await client.GetOpenAIFileClient().UploadFileAsync(
            new MemoryStream(TestJsonl.File(TestJsonl.Request("a"), TestJsonl.Request("b"))), "batch_requests.jsonl", FileUploadPurpose.Batch, Ct);
        var batches = client.GetBatchClient();

        var operation = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromObjectAsJson(
            new { input_file_id = file.Id, endpoint = "/v1/chat/completions", completion_window = "24h" })), waitUntilCompleted: false, Ct.ToRequestOptions());
        var retrieved = await batches.GetBatchAsync(operation.BatchId, Ct.ToRequestOptions());
        var cancelled = await operation.CancelAsync(Ct.ToRequestOptions());

        Assert.Equal("validating", Status(retrieved.GetRawResponse().Content));
        Assert.Equal("cancelling", Status(cancelled.GetRawResponse().Content));
    }

    [Fact]
    public async Task SdkPagingVisitsEveryBatchOnce()
    {
        var client = _app.CreateOpenAIClient(_app.NewTenant().Key);
        OpenAIFile file = await client.GetOpenAIFileClient().UploadFileAsync(
            new MemoryStream(TestJsonl.File(TestJsonl.Request("a"))), "batch_requests.jsonl", FileUploadPurpose.Batch, Ct);
        var batches = client.GetBatchClient();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var operation = await batches.CreateBatchAsync(BinaryContent.Create(BinaryData.FromObjectAsJson(
                new { input_file_id = file.Id, endpoint = "/v1/chat/completions", completion_window = "24h" })), waitUntilCompleted: false, Ct.ToRequestOptions());
            ids.Add(operation.BatchId);
        }

        var seen = new List<string>();
        await foreach (var batch in batches.GetBatchesAsync(new BatchCollectionOptions { PageSizeLimit = 2 }, Ct)) seen.Add(batch.Id);

        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task SdkSeesUnknownFileAs404()
    {
        var files = _app.CreateOpenAIClient(_app.NewTenant().Key).GetOpenAIFileClient();

        var error = await Assert.ThrowsAsync<ClientResultException>(() => files.GetFileAsync("file-doesnotexist", Ct));

        Assert.Equal(404, error.Status);
        Assert.Contains("No such File object", error.Message);
    }

    [Fact]
    public async Task SdkWorksWithABaseUrlWithoutV1()
    {
        var files = _app.CreateOpenAIClient(_app.NewTenant().Key, basePath: "").GetOpenAIFileClient();

        OpenAIFile file = await files.UploadFileAsync(new MemoryStream(TestJsonl.File(TestJsonl.Request("a"))), "a.jsonl", FileUploadPurpose.Batch, Ct);

        Assert.Equal(file.Id, (await files.GetFileAsync(file.Id, Ct)).Value.Id);
    }

    private static string? Status(BinaryData json) => JsonDocument.Parse(json).RootElement.GetProperty("status").GetString();
}

internal static class RequestOptionsExtensions
{
    public static System.ClientModel.Primitives.RequestOptions ToRequestOptions(this CancellationToken ct) => new() { CancellationToken = ct };
}
