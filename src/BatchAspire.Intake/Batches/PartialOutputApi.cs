using System.Globalization;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Results;
using BatchAspire.Core.Tenants;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Errors;
using BatchAspire.Intake.Files;
using Microsoft.AspNetCore.Mvc;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// <c>GET /v1/batches/{batch_id}/partial_output?after=cursor</c>: a BatchAspire extension the OpenAI SDKs ignore
/// (docs/webhooks.md, "Partial results"). Answers the batch's output and error lines that became final after the
/// cursor, as JSONL, streamed, with the next cursor and whether more can come in the response headers.
/// </summary>
public static class PartialOutputApi
{
    public const string NextCursorHeader = "BatchAspire-Next-Cursor";
    public const string CompleteHeader = "BatchAspire-Complete";
    private const int FlushBytes = 64 * 1024;

    public static RouteGroupBuilder MapPartialOutput(this RouteGroupBuilder batches, bool documented)
    {
        batches.MapGet("/{batch_id}/partial_output", ReadAsync).Named("ReadPartialOutput", documented)
            .WithSummary("Read the batch's final output and error lines after a cursor (BatchAspire extension)")
            .Produces(StatusCodes.Status200OK, contentType: "application/jsonl").ProducesOpenAIErrors(400, 404);
        return batches;
    }

    private static async Task<IResult> ReadAsync([FromRoute(Name = "batch_id")] string batchId, string? after, HttpContext http,
        Tenant tenant, IJobStore jobs, PartialOutput partial, CancellationToken ct)
    {
        // Another tenant's batch answers as an unknown one, before the cursor is even looked at.
        if (await jobs.FindAsync(tenant.Id, batchId, ct) is null) return OpenAIErrors.BatchNotFound(batchId);
        long cursor = 0;
        if (!string.IsNullOrEmpty(after) && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
            return InvalidCursor(after, batchId);
        PartialOutputPage? page;
        try
        {
            page = await partial.PlanAsync(batchId, cursor, ct);
        }
        catch (PartialOutputUnavailableException e)
        {
            return OpenAIErrors.Invalid("after", e.Message);
        }
        if (page is null) return InvalidCursor(after!, batchId);

        http.Response.Headers[NextCursorHeader] = page.Next.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers[CompleteHeader] = page.Complete ? "true" : "false";
        return TypedResults.Stream(async body =>
        {
            // The lines go straight from the blob store and Redis to the socket: memory stays at one line and a flush.
            var writer = http.Response.BodyWriter;
            var pending = 0;
            await foreach (var line in partial.ReadAsync(page, ct))
            {
                var span = writer.GetSpan(line.Length + 1);
                line.Span.CopyTo(span);
                span[line.Length] = (byte)'\n';
                writer.Advance(line.Length + 1);
                pending += line.Length + 1;
                if (pending < FlushBytes) continue;
                await writer.FlushAsync(ct);
                pending = 0;
            }
            await writer.FlushAsync(ct);
        }, "application/jsonl");
    }

    private static IResult InvalidCursor(string after, string batchId) =>
        OpenAIErrors.Invalid("after",
            $"'{after}' is not a partial output cursor of batch {batchId}: pass the {NextCursorHeader} header of an earlier read, or nothing to start.");
}
