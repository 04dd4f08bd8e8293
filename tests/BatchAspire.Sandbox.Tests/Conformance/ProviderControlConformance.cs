#pragma warning disable OPENAI001 // the Batch client is experimental in OpenAI 2.15.0
using System.Diagnostics;
using System.Net.Http.Headers;

namespace BatchAspire.Conformance;

/// <summary>
/// Items that need a batch slowed down, a short completion window or an injected rate limit
/// (E50–E53, E55, G61). Only for targets that offer <see cref="IProviderControl"/>.
/// </summary>
public abstract class ProviderControlConformance
{
    protected abstract ConformanceTarget Target { get; }
    protected abstract IProviderControl Control { get; }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(OpenAIApi Api, string BatchId)> SlowBatchAsync(int lines, TimeSpan perLine, TimeSpan validationDelay = default)
    {
        var api = await OpenAIApi.CreateAsync(Target, Ct);
        var metadata = await Control.SlowBatchMetadataAsync(validationDelay, perLine, Ct);
        var batch = await api.SubmitAsync(Jsonl.ChatFile(lines), metadata: metadata, ct: Ct);
        return (api, batch.Str("id"));
    }

    [Theory, Trait("conformance", "E50")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task CancellingAnInProgressBatchGoesThroughCancellingToCancelled(bool withJsonContentType)
    {
        var (api, batchId) = await SlowBatchAsync(100, TimeSpan.FromMilliseconds(50));
        using var _ = api;
        await api.WaitForAsync(batchId, Ct, null, "in_progress");
        using var request = api.Request(HttpMethod.Post, $"batches/{batchId}/cancel");
        if (withJsonContentType)
        {
            request.Content = new ByteArrayContent([]);   // Python: Content-Type application/json, Content-Length 0
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        using var response = await api.Http.SendAsync(request, Ct);
        var cancelling = await Wire.AssertOkJsonAsync(response);
        Assert.Equal("cancelling", cancelling.Str("status"));
        cancelling.Int("cancelling_at");
        var cancelled = await api.WaitForAsync(batchId, Ct);
        Assert.Equal("cancelled", cancelled.Str("status"));
        cancelled.Int("cancelled_at");
        Assert.Equal(cancelling.Int("cancelling_at"), cancelled.Int("cancelling_at"));
    }

    [Fact, Trait("conformance", "E51")]
    public async Task AfterCancelFinishedRequestsAreOutputAndTheRestAreBatchCancelledErrors()
    {
        var (api, batchId) = await SlowBatchAsync(200, TimeSpan.FromMilliseconds(20));
        using var _ = api;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.GetBatchAsync(batchId, Ct)).Counts().Completed < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "no progress");
            await Task.Delay(20, Ct);
        }
        await api.OkJsonAsync(HttpMethod.Post, $"batches/{batchId}/cancel", ct: Ct);
        var cancelled = await api.WaitForAsync(batchId, Ct);
        Assert.Equal("cancelled", cancelled.Str("status"));
        var output = await api.ResultLinesAsync(cancelled.Str("output_file_id"), Ct);
        var errors = await api.ResultLinesAsync(cancelled.Str("error_file_id"), Ct);
        Assert.NotEmpty(output);
        Assert.NotEmpty(errors);
        Assert.Equal(200, output.Count + errors.Count);
        Assert.Equal((200L, (long)output.Count, (long)errors.Count), cancelled.Counts());
        Assert.All(output, l => Assert.Equal(200, l.GetProperty("response").Int("status_code")));
        Assert.All(errors, l =>
        {
            Assert.True(l.IsNull("response"));
            Assert.Equal("batch_cancelled", l.GetProperty("error").Str("code"));
        });
        Assert.Equal(200, output.Concat(errors).Select(l => l.Str("custom_id")).Distinct().Count());
    }

    [Fact, Trait("conformance", "E52")]
    public async Task CancellingAValidatingBatchEndsCancelledWithoutFiles()
    {
        var (api, batchId) = await SlowBatchAsync(3, TimeSpan.Zero, validationDelay: TimeSpan.FromSeconds(30));
        using var _ = api;
        Assert.Equal("validating", (await api.GetBatchAsync(batchId, Ct)).Str("status"));
        var cancelling = await api.OkJsonAsync(HttpMethod.Post, $"batches/{batchId}/cancel", ct: Ct);
        Assert.Equal("cancelling", cancelling.Str("status"));
        var cancelled = await api.WaitForAsync(batchId, Ct, TimeSpan.FromSeconds(10));
        Assert.Equal("cancelled", cancelled.Str("status"));
        Assert.True(cancelled.IsNull("output_file_id"));
    }

    [Fact, Trait("conformance", "E53")]
    public async Task CancellingACancellingOrCancelledBatchReturnsItUnchanged()
    {
        var (api, batchId) = await SlowBatchAsync(20, TimeSpan.FromMilliseconds(1200));
        using var _ = api;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await api.GetBatchAsync(batchId, Ct)).Counts().Completed < 1)   // from now on a request is always in flight
        {
            Assert.True(DateTime.UtcNow < deadline, "no progress");
            await Task.Delay(20, Ct);
        }
        var first = await api.OkJsonAsync(HttpMethod.Post, $"batches/{batchId}/cancel", ct: Ct);
        Assert.Equal("cancelling", first.Str("status"));
        var second = await api.OkJsonAsync(HttpMethod.Post, $"batches/{batchId}/cancel", ct: Ct);   // the in-flight request takes 1.2 s
        Assert.Equal("cancelling", second.Str("status"));
        Assert.Equal(first.Int("cancelling_at"), second.Int("cancelling_at"));
        var cancelled = await api.WaitForAsync(batchId, Ct);
        Assert.Equal("cancelled", cancelled.Str("status"));
        var again = await api.OkJsonAsync(HttpMethod.Post, $"batches/{batchId}/cancel", ct: Ct);
        Assert.Equal(cancelled.GetRawText(), again.GetRawText());
    }

    [Fact, Trait("conformance", "E55")]
    public async Task AnUnfinishedBatchExpiresWithPartialOutputAndBatchExpiredErrors()
    {
        using var api = await OpenAIApi.CreateAsync(Target, Ct);
        var metadata = await Control.ExpiringBatchMetadataAsync(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(20), Ct);
        var batch = await api.SubmitAsync(Jsonl.ChatFile(400), metadata: metadata, ct: Ct);
        var expired = await api.WaitForAsync(batch.Str("id"), Ct);
        Assert.Equal("expired", expired.Str("status"));
        expired.Int("expired_at");
        var output = await api.ResultLinesAsync(expired.Str("output_file_id"), Ct);
        var errors = await api.ResultLinesAsync(expired.Str("error_file_id"), Ct);
        Assert.NotEmpty(output);
        Assert.Equal(400, output.Count + errors.Count);
        Assert.All(errors, l =>
        {
            Assert.True(l.IsNull("response"));
            var error = l.GetProperty("error");
            Assert.Equal("batch_expired", error.Str("code"));
            Assert.Equal("This request could not be executed before the completion window expired.", error.Str("message"));
        });
        using var cancel = await api.SendAsync(HttpMethod.Post, $"batches/{batch.Str("id")}/cancel", ct: Ct);
        await Wire.AssertErrorAsync(cancel, 409);
    }

    [Fact, Trait("conformance", "G61")]
    public async Task A429CarriesRetryAfterAndTheSdkWaitsThatLong()
    {
        using var api = await OpenAIApi.CreateAsync(Target, Ct);
        var fileId = (await api.UploadAsync(Jsonl.ChatFile(1), ct: Ct)).Str("id");
        var path = api.Url($"files/{fileId}").AbsolutePath;
        await Control.RateLimitNextCallsAsync("GET", path, count: 2, retryAfterSeconds: 1, Ct);

        using var limited = await api.SendAsync(HttpMethod.Get, $"files/{fileId}", ct: Ct);
        await Wire.AssertErrorAsync(limited, 429);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(retryAfter * 1000, int.Parse(limited.Headers.GetValues("retry-after-ms").Single()));

        // Python is not on this machine; the .NET SDK honours Retry-After the same way (docs/openai/errors.md §3).
        var counter = new CountingHandler(new SocketsHttpHandler());
        using var http = new HttpClient(counter);
        var watch = Stopwatch.StartNew();
        var file = await api.Sdk(http).GetOpenAIFileClient().GetFileAsync(fileId, Ct);
        Assert.Equal(fileId, file.Value.Id);
        Assert.Equal(2, counter.Count);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(retryAfter) - TimeSpan.FromMilliseconds(50), $"retried after {watch.Elapsed}");
    }
}
