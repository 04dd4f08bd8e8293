using System.Diagnostics;
using System.Globalization;
using BatchAspire.Contracts;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Results;
using BatchAspire.Core.Routing;
using BatchAspire.Core.Tenants;
using BatchAspire.Core.Telemetry;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Errors;
using BatchAspire.Intake.Files;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Batches;

/// <summary>The Batches API (docs/openai/batches.md), at <c>/v1/batches</c> and <c>/batches</c>. Status is read from Redis only.</summary>
public static class BatchesApi
{
    private const long CompletionWindowSeconds = 24 * 3600;

    public static IEndpointRouteBuilder MapBatchesApi(this IEndpointRouteBuilder routes)
    {
        Map(routes.MapGroup("/v1/batches"), documented: true);
        Map(routes.MapGroup("/batches"), documented: false).ExcludeFromDescription();
        return routes;
    }

    private static RouteGroupBuilder Map(RouteGroupBuilder batches, bool documented)
    {
        batches.RequireAuthorization().WithTags("Batches");
        batches.MapPost("", CreateAsync).Named("CreateBatch", documented).WithSummary("Create a batch from an uploaded file")
            .Accepts<CreateBatchRequest>("application/json").Produces<BatchObject>().ProducesOpenAIErrors(400, 404);
        batches.MapGet("", ListAsync).Named("ListBatches", documented).WithSummary("List the caller's batches, newest first")
            .Produces<ListResponse<BatchObject>>().ProducesOpenAIErrors(400, 404);
        batches.MapGet("/{batch_id}", RetrieveAsync).Named("RetrieveBatch", documented).WithSummary("Retrieve a batch")
            .Produces<BatchObject>().ProducesOpenAIErrors(404);
        batches.MapPost("/{batch_id}/cancel", CancelAsync).Named("CancelBatch", documented).WithSummary("Cancel a batch")
            .Produces<BatchObject>().ProducesOpenAIErrors(404, 409);
        batches.MapPartialOutput(documented);
        batches.MapLineProviders(documented);
        return batches;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, Tenant tenant, IFileStore files, IJobStore jobs, PartialOutput partial,
        IPublishEndpoint publish, IOptions<IntakeOptions> options, IOptions<RoutingOptions> routing, TimeProvider time, ILogger<BatchObject> logger,
        CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize) bodySize.MaxRequestBodySize = 1024 * 1024;
        var (request, invalid) = await CreateBatchRequestParser.ParseAsync(http.Request.Body, ct);
        if (request is null) return invalid!;

        if (await files.FindAsync(tenant.Id, request.InputFileId, ct) is not { } file)
            return OpenAIErrors.FileNotFound(request.InputFileId, "input_file_id");
        if (file.Purpose != FilePurposes.Batch)
            return OpenAIErrors.Invalid("input_file_id",
                $"The file {file.Id} has purpose '{file.Purpose}'; a batch needs a file uploaded with purpose 'batch'.");
        var analysis = await files.GetAnalysisAsync(file.Id, ct)
            ?? throw new InvalidOperationException($"File {file.Id} has purpose batch but no analysis.");

        var jobId = JobIds.New();
        using var activity = IntakeTelemetry.Source.StartJobRoot(jobId, tenant.Id);
        activity?.SetTag(TelemetryTags.FileId, file.Id);

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        IReadOnlyList<LineError> errors;
        using (IntakeTelemetry.Source.StartActivity("validate"))
        using (JobStages.Time(JobStages.Validate))
        {
            errors = InputFileCheck.Evaluate(file, analysis, request.Endpoint, options.Value.MaxRequestsPerBatch);
            // A model routed to Anthropic first: every line must translate, or the batch fails with the lines that do not.
            if (errors.Count == 0 && analysis.Models is [var routed] && routing.Value.FirstKindOf(routed.Value) == ProviderKinds.Anthropic)
                errors = await AnthropicLineCheck.EvaluateAsync(files, file, ct);
        }
        var newJob = new NewJob(jobId, tenant.Id, request.Endpoint, file.Id, request.CompletionWindow, now, now + CompletionWindowSeconds, file.Lines)
        {
            MetadataJson = request.MetadataJson,
            OutputExpiresAfterSeconds = request.OutputExpiresAfterSeconds,
            Model = analysis.Models is [var model] ? model.Value : null,
            // The pipeline continues this trace from the job hash (workers have no request to carry it).
            TraceParent = Activity.Current?.Id,
        };

        if (errors.Count > 0)
        {
            var failed = await jobs.CreateFailedAsync(newJob, errors, ct);
            IntakeLog.BatchFailedValidation(logger, jobId, tenant.Id, file.Id, errors.Count);
            activity?.SetTag(TelemetryTags.Outcome, JobStatus.Failed);
            return TypedResults.Ok(await ObjectAsync(failed, partial));
        }

        JobRecord job;
        try
        {
            job = await jobs.CreateAsync(newJob, options.Value.Quotas.For(tenant.Id), ct);
        }
        catch (QuotaExceededException e)
        {
            IntakeLog.QuotaExceeded(logger, tenant.Id, e.Limit.ToString());
            activity?.SetTag(TelemetryTags.Outcome, "quota_exceeded");
            return OpenAIErrors.QuotaExceeded(e);
        }
        IntakeLog.BatchAccepted(logger, jobId, tenant.Id, file.Id, file.Lines);
        // Only now that the job is durable: if this publish is lost, the re-publisher sends it again.
        await PublishAsync(publish, new JobAccepted { JobId = jobId }, jobId, options.Value.PublishTimeout, logger);
        activity?.SetTag(TelemetryTags.Outcome, JobStatus.Validating);
        return TypedResults.Ok(await ObjectAsync(job, partial));
    }

    private static async Task<IResult> ListAsync(Tenant tenant, IJobStore jobs, PartialOutput partial, string? limit, string? after, CancellationToken ct)
    {
        if (!Query.TryLimit(limit, 20, 100, out var pageSize)) return Query.InvalidLimit(100);
        var page = await jobs.ListAsync(tenant.Id, pageSize, string.IsNullOrEmpty(after) ? null : after, ct);
        if (page is null) return OpenAIErrors.BatchNotFound(after!);
        return TypedResults.Ok(ListResponse.Create(await Task.WhenAll(page.Data.Select(j => ObjectAsync(j, partial))), page.HasMore, b => b.Id));
    }

    private static async Task<IResult> RetrieveAsync([FromRoute(Name = "batch_id")] string batchId, Tenant tenant, IJobStore jobs,
        PartialOutput partial, CancellationToken ct) =>
        await jobs.FindAsync(tenant.Id, batchId, ct) is { } job
            ? TypedResults.Ok(await ObjectAsync(job, partial))
            : OpenAIErrors.BatchNotFound(batchId);

    private static async Task<IResult> CancelAsync([FromRoute(Name = "batch_id")] string batchId, HttpContext http, Tenant tenant, IJobStore jobs,
        PartialOutput partial, IPublishEndpoint publish, IOptions<IntakeOptions> options, TimeProvider time, ILogger<BatchObject> logger, CancellationToken ct)
    {
        // Cancel has an empty body (with or without a JSON content type, docs/openai/sdk-calls.md §5): it is never read.
        var outcome = await jobs.RequestCancelAsync(tenant.Id, batchId, time.GetUtcNow().ToUnixTimeSeconds(), ct);
        if (!outcome.Found) return OpenAIErrors.BatchNotFound(batchId);
        if (outcome.Cancelling)
        {
            IntakeLog.BatchCancelling(logger, batchId, tenant.Id, outcome.PreviousStatus ?? "");
            await PublishAsync(publish, new JobCancelRequested { JobId = batchId }, batchId, options.Value.PublishTimeout, logger);
        }
        else if (outcome.PreviousStatus is not (JobStatus.Cancelling or JobStatus.Cancelled))
        {
            // A finished batch cannot be cancelled; tell Python and Node not to retry this 409.
            http.Response.Headers["x-should-retry"] = "false";
            return OpenAIErrors.Create(StatusCodes.Status409Conflict, $"Cannot cancel a batch with status '{outcome.PreviousStatus}'.");
        }
        var job = await jobs.FindAsync(tenant.Id, batchId, ct);
        return job is null ? OpenAIErrors.BatchNotFound(batchId) : TypedResults.Ok(await ObjectAsync(job, partial));
    }

    /// <summary>The batch object, with how far its partial output goes (BatchAspire's extension; one more Redis read).</summary>
    private static async Task<BatchObject> ObjectAsync(JobRecord job, PartialOutput partial) =>
        BatchObject.From(job, new BatchPartialOutput
        {
            Cursor = (await partial.CursorAsync(job.Id, job.Status)).ToString(CultureInfo.InvariantCulture),
        });

    /// <summary>
    /// Publishes after the state is durable, waiting at most <paramref name="timeout"/> for the broker.
    /// A failure is logged, not surfaced: the job is stored, and <see cref="StrandedJobRepublisher"/>
    /// sends the message again for a job that stays validating or cancelling.
    /// </summary>
    private static async Task PublishAsync<T>(IPublishEndpoint publish, T message, string jobId, TimeSpan timeout, ILogger logger) where T : class
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await publish.Publish(message, cts.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            IntakeLog.PublishFailed(logger, e, typeof(T).Name, jobId);
        }
    }
}
