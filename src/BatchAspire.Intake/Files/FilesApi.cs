using BatchAspire.Core.Files;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Errors;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Files;

/// <summary>The Files API (docs/openai/files.md), at <c>/v1/files</c> and, for base URLs without <c>/v1</c>, at <c>/files</c>.</summary>
public static class FilesApi
{
    private const int DefaultListLimit = 10_000;

    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder routes)
    {
        Map(routes.MapGroup("/v1/files"), documented: true);
        Map(routes.MapGroup("/files"), documented: false).ExcludeFromDescription();
        return routes;
    }

    private static RouteGroupBuilder Map(RouteGroupBuilder files, bool documented)
    {
        files.RequireAuthorization().WithTags("Files");
        files.MapPost("", UploadAsync).Named("UploadFile", documented).WithSummary("Upload a file (multipart: file, purpose, expires_after[anchor], expires_after[seconds])")
            .Accepts<UploadFileForm>("multipart/form-data").Produces<FileObject>().ProducesOpenAIErrors(400).DisableAntiforgery();
        files.MapGet("", ListAsync).Named("ListFiles", documented).WithSummary("List the caller's files").Produces<ListResponse<FileObject>>()
            .ProducesOpenAIErrors(400, 404);
        files.MapGet("/{file_id}", RetrieveAsync).Named("RetrieveFile", documented).WithSummary("Retrieve a file").Produces<FileObject>()
            .ProducesOpenAIErrors(404);
        files.MapDelete("/{file_id}", DeleteAsync).Named("DeleteFile", documented).WithSummary("Delete a file").Produces<FileDeleted>()
            .ProducesOpenAIErrors(404);
        files.MapGet("/{file_id}/content", ContentAsync).Named("DownloadFile", documented).WithSummary("Download a file's bytes")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream").ProducesOpenAIErrors(404);
        return files;
    }

    private static Task<IResult> UploadAsync(HttpContext http, Tenant tenant, IFileStore store, IOptions<IntakeOptions> options,
        ILogger<FileObject> logger, CancellationToken ct) =>
        MultipartUpload.UploadAsync(http, tenant, store, options.Value, logger, ct);

    private static async Task<IResult> ListAsync(Tenant tenant, IFileStore store,
        string? purpose, string? limit, string? order, string? after, CancellationToken ct)
    {
        if (!Query.TryLimit(limit, DefaultListLimit, 10_000, out var pageSize)) return Query.InvalidLimit(10_000);
        if (order is not (null or "asc" or "desc")) return OpenAIErrors.Invalid("order", "order must be 'asc' or 'desc'.");
        var page = await store.ListAsync(tenant.Id, string.IsNullOrEmpty(purpose) ? null : purpose, pageSize, order == "asc",
            string.IsNullOrEmpty(after) ? null : after, ct);
        if (page is null) return OpenAIErrors.FileNotFound(after!, "after");
        return TypedResults.Ok(ListResponse.Create([.. page.Data.Select(FileObject.From)], page.HasMore, f => f.Id));
    }

    private static async Task<IResult> RetrieveAsync([FromRoute(Name = "file_id")] string fileId, Tenant tenant, IFileStore store, CancellationToken ct) =>
        await store.FindAsync(tenant.Id, fileId, ct) is { } file
            ? TypedResults.Ok(FileObject.From(file))
            : OpenAIErrors.FileNotFound(fileId);

    private static async Task<IResult> DeleteAsync([FromRoute(Name = "file_id")] string fileId, Tenant tenant, IFileStore store, CancellationToken ct) =>
        await store.FindAsync(tenant.Id, fileId, ct) is not null && await store.DeleteAsync(tenant.Id, fileId, ct)
            ? TypedResults.Ok(new FileDeleted { Id = fileId })
            : OpenAIErrors.FileNotFound(fileId);

    private static async Task<IResult> ContentAsync([FromRoute(Name = "file_id")] string fileId, Tenant tenant, IFileStore store, CancellationToken ct) =>
        await store.FindAsync(tenant.Id, fileId, ct) is { } file
            ? new FileContentResult(store, file)
            : OpenAIErrors.FileNotFound(fileId);

    /// <summary>Streams the file's parts from the blob store as they are read; no content negotiation (docs/openai/files.md §6).</summary>
    private sealed class FileContentResult(IFileStore store, StoredFile file) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status200OK;
            http.Response.ContentType = "application/octet-stream";
            http.Response.ContentLength = file.Bytes;
            await foreach (var segment in store.ReadContentAsync(file.Id, http.RequestAborted))
                await http.Response.Body.WriteAsync(segment, http.RequestAborted);
        }
    }
}

/// <summary>The upload form as documented in OpenAPI (the handler reads the parts itself, streaming).</summary>
public sealed class UploadFileForm
{
    public required IFormFile File { get; init; }
    public required string Purpose { get; init; }
}

/// <summary>Query parsing shared by the list endpoints, with OpenAI-style errors naming the parameter.</summary>
internal static class Query
{
    public static bool TryLimit(string? text, int defaultValue, int max, out int limit)
    {
        limit = defaultValue;
        if (string.IsNullOrEmpty(text)) return true;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit)
            && limit >= 1 && limit <= max;
    }

    public static IResult InvalidLimit(int max) => OpenAIErrors.Invalid("limit", $"limit must be an integer between 1 and {max}.");
}

internal static class OpenApiMetadata
{
    /// <summary>Documents the error envelope for the given statuses, plus the 401 every endpoint can answer.</summary>
    /// <summary>Endpoint names must be unique: only the documented (<c>/v1</c>) routes carry one.</summary>
    public static RouteHandlerBuilder Named(this RouteHandlerBuilder builder, string name, bool documented) =>
        documented ? builder.WithName(name) : builder;

    public static RouteHandlerBuilder ProducesOpenAIErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses.Append(StatusCodes.Status401Unauthorized))
            builder.Produces<OpenAIErrorResponse>(status, "application/json");
        return builder;
    }
}
