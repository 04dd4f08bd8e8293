using System.Buffers;
using System.Text.Json;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Results;
using BatchAspire.Core.Tenants;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Errors;
using BatchAspire.Intake.Files;
using Microsoft.AspNetCore.Mvc;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// <c>GET /v1/batches/{batch_id}/providers</c>: a BatchAspire extension (docs/providers.md, "The cost ledger"). Answers,
/// as JSONL in input order, which provider each request went to last: <c>{"custom_id","line","provider"}</c>, once the
/// batch has ended the provider its final result came from. Nothing per request is stored for it: the chunks already
/// record their provider and carry each request one at a time, so the answer is derived from them and the input file.
/// </summary>
public static class LineProvidersApi
{
    private const int FlushBytes = 64 * 1024;

    public static RouteGroupBuilder MapLineProviders(this RouteGroupBuilder batches, bool documented)
    {
        batches.MapGet("/{batch_id}/providers", ReadAsync).Named("ReadLineProviders", documented)
            .WithSummary("Which provider each request of the batch ran at (BatchAspire extension)")
            .Produces(StatusCodes.Status200OK, contentType: "application/jsonl").ProducesOpenAIErrors(404);
        return batches;
    }

    private static async Task<IResult> ReadAsync([FromRoute(Name = "batch_id")] string batchId, HttpContext http, Tenant tenant,
        IJobStore jobs, ChunkStore chunks, IFileStore files, CancellationToken ct)
    {
        // Another tenant's batch answers as an unknown one.
        if (await jobs.FindAsync(tenant.Id, batchId, ct) is not { } job) return OpenAIErrors.BatchNotFound(batchId);
        var total = job.GetInt64(JobFields.RequestTotal) ?? 0;
        var inputFileId = job[JobFields.InputFileId];
        var providers = await chunks.ReadLineProvidersAsync(batchId, total);
        return TypedResults.Stream(async body =>
        {
            var writer = http.Response.BodyWriter;
            var buffer = new ArrayBufferWriter<byte>(256);
            await using var json = new Utf8JsonWriter(buffer);
            long line = 0;
            var pending = 0;
            if (inputFileId is null || total == 0) return;
            await foreach (var request in files.ReadLinesAsync(inputFileId, 0, total, ct))
            {
                buffer.ResetWrittenCount();
                json.Reset(buffer);
                json.WriteStartObject();
                json.WriteString("custom_id", ResultLine.CustomIdOfRequest(request.Span));
                json.WriteNumber("line", line + 1);
                if (providers[line] is { } provider) json.WriteString("provider", provider);
                else json.WriteNull("provider");
                json.WriteEndObject();
                await json.FlushAsync(ct);
                var span = writer.GetSpan(buffer.WrittenCount + 1);
                buffer.WrittenSpan.CopyTo(span);
                span[buffer.WrittenCount] = (byte)'\n';
                writer.Advance(buffer.WrittenCount + 1);
                pending += buffer.WrittenCount + 1;
                line++;
                if (pending < FlushBytes) continue;
                await writer.FlushAsync(ct);
                pending = 0;
            }
            await writer.FlushAsync(ct);
        }, "application/jsonl");
    }
}
