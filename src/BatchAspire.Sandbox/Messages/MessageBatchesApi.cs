using System.Globalization;
using BatchAspire.Sandbox.Batches;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Http;
using BatchAspire.Sandbox.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace BatchAspire.Sandbox.Messages;

/// <summary>
/// Anthropic's Message Batches API (docs/sandbox.md, "Message Batches"): create with the requests inline, retrieve,
/// list, cancel, delete, and the results as JSONL in no particular order. The batches run through the same
/// <see cref="BatchProcessor"/>, executors and fault knobs as OpenAI batches.
/// </summary>
public static class MessageBatchesApi
{
    private const int DayMs = 86_400_000;

    /// <summary>Mapped under <c>/v1</c> only: Anthropic's SDKs add <c>/v1</c> to their base URL themselves.</summary>
    public static IEndpointRouteBuilder MapMessageBatchesApi(this IEndpointRouteBuilder routes)
    {
        var batches = routes.MapGroup("/v1/messages/batches");
        batches.MapPost("/", CreateAsync);
        batches.MapGet("/", List);
        batches.MapGet("/{batchId}", Retrieve);
        batches.MapPost("/{batchId}/cancel", Cancel);
        batches.MapDelete("/{batchId}", Delete);
        batches.MapGet("/{batchId}/results", ResultsAsync);
        return routes;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, BatchStore store, DataFolder folder, BatchRunner runner,
        FaultState faults, SandboxStats stats, TimeProvider time, CancellationToken ct)
    {
        // Beyond it Kestrel answers 413, which the pipeline turns into request_too_large.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MessageBatchRequests.MaxBodyBytes;
        var id = Ids.NewMessageBatchId();
        var upload = folder.MessageBatchInputUpload(id);
        try
        {
            var requests = await MessageBatchRequests.CopyAsync(http.Request.BodyReader, upload, ct);
            if (requests.Error is { } error) return error;
            File.Move(upload, folder.MessageBatchInput(id));

            var knobs = faults.Snapshot();
            var expireAfter = faults.TakeExpiry();
            var createdMs = time.GetUtcNow().ToUnixTimeMilliseconds();
            var windowMs = expireAfter is { } seconds ? (long)(seconds * 1000) : DayMs;
            var batch = new BatchState
            {
                Id = id,
                Project = http.Project(),
                Seq = store.NextSeq(),
                Endpoint = BatchState.MessageBatchEndpoint,
                InputFileId = "",
                Status = BatchStatus.Validating,
                Total = requests.Count,
                CreatedAt = createdMs / 1000,
                ExpiresAt = (createdMs + windowMs + 999) / 1000,
                CreatedAtMs = createdMs,
                ExpiresAtMs = createdMs + windowMs,
                ValidationDelayMs = knobs.ValidationDelayMs,
                LineLatencyMs = knobs.LineLatencyMs,
                Fail429Rate = knobs.LineFail429Rate,
                Fail500Rate = knobs.LineFail500Rate,
            };
            store.Add(batch);
            stats.BatchCreated();
            runner.Enqueue(batch);
            return new RawJson(MessageBatchWire.Serialize(batch, ApiBase(http)));
        }
        finally
        {
            File.Delete(upload);
        }
    }

    private static IResult Retrieve(HttpContext http, BatchStore store, SandboxStats stats, string batchId)
    {
        if (store.Find(http.Project(), batchId, messageBatch: true) is not { } batch) return AnthropicErrors.BatchNotFound(batchId);
        stats.BatchGet(batchId);
        return new RawJson(MessageBatchWire.Serialize(batch, ApiBase(http)));
    }

    private static IResult List(HttpContext http, BatchStore store, string? limit, string? before_id, string? after_id)
    {
        var pageSize = 20;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 1000))
        {
            return AnthropicErrors.BadRequest("limit: Input should be an integer between 1 and 1000");
        }
        if (before_id is not null && after_id is not null) return AnthropicErrors.BadRequest("before_id and after_id cannot both be set");
        var (page, hasMore) = store.List(http.Project(), pageSize, after_id, messageBatches: true, before: before_id);
        return new RawJson(MessageBatchWire.SerializeList(page, hasMore, ApiBase(http)));
    }

    private static IResult Cancel(HttpContext http, BatchStore store, SandboxStats stats, TimeProvider time, string batchId)
    {
        if (store.Find(http.Project(), batchId, messageBatch: true) is not { } batch) return AnthropicErrors.BatchNotFound(batchId);
        stats.BatchCancel(batchId);
        byte[] response;
        lock (batch.Gate)
        {
            // Cancelling a batch that is canceling or has ended (or whose requests have all run) changes nothing.
            if (BatchStatus.IsTerminal(batch.Status) || batch.CancellingAt is not null || batch.EndStatus is not null)
            {
                return new RawJson(MessageBatchWire.Serialize(batch, ApiBase(http)));
            }
            batch.Status = BatchStatus.Cancelling;
            batch.CancellingAt = time.GetUtcNow().ToUnixTimeSeconds();
            response = MessageBatchWire.Serialize(batch, ApiBase(http));   // before the signal: the runner may end the batch at once
        }
        store.Save(batch);
        batch.CancelSignal.Cancel();
        return new RawJson(response);
    }

    private static IResult Delete(HttpContext http, BatchStore store, DataFolder folder, string batchId)
    {
        if (store.Find(http.Project(), batchId, messageBatch: true) is not { } batch) return AnthropicErrors.BatchNotFound(batchId);
        lock (batch.Gate)
        {
            if (!BatchStatus.IsTerminal(batch.Status))
            {
                return AnthropicErrors.BadRequest(
                    $"Message Batch {batchId} cannot be deleted while it is processing: cancel it first, then delete it once it has ended.");
            }
        }
        if (store.Remove(batch))
        {
            File.Delete(folder.MessageBatchInput(batchId));
            File.Delete(folder.MessageBatchResults(batchId, 1));
            File.Delete(folder.MessageBatchResults(batchId, 2));
        }
        return new RawJson(MessageBatchWire.SerializeDeleted(batchId));
    }

    /// <summary>Streams the results from disk: succeeded ones, then the others, each part in its own reordered blocks.</summary>
    private static async Task<IResult> ResultsAsync(HttpContext http, BatchStore store, DataFolder folder, SandboxStats stats, string batchId,
        CancellationToken ct)
    {
        if (store.Find(http.Project(), batchId, messageBatch: true) is not { } batch) return AnthropicErrors.BatchNotFound(batchId);
        lock (batch.Gate)
        {
            if (!BatchStatus.IsTerminal(batch.Status))
            {
                return AnthropicErrors.BadRequest($"Message Batch {batchId} has not ended yet: its results are available once processing_status is 'ended'.");
            }
        }
        stats.FileDownload(batchId);
        // Opened before the first byte is sent, so a delete that comes meanwhile cannot cut the answer short.
        await using var succeeded = Open(folder.MessageBatchResults(batchId, 1));
        await using var others = Open(folder.MessageBatchResults(batchId, 2));
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/binary";
        response.ContentLength = succeeded.Length + others.Length;
        await succeeded.CopyToAsync(response.Body, 64 * 1024, ct);
        await others.CopyToAsync(response.Body, 64 * 1024, ct);
        return Results.Empty;
    }

    /// <summary>A batch that failed inside the Sandbox (an internal error) ended without results: its files are empty.</summary>
    private static Stream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return Stream.Null;
        }
    }

    /// <summary>The absolute base the caller reached, for <c>results_url</c> (the SDKs follow it as given).</summary>
    private static string ApiBase(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/v1";
}
