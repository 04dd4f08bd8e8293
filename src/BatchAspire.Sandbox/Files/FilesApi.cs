using System.Globalization;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Http;
using BatchAspire.Sandbox.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace BatchAspire.Sandbox.Files;

/// <summary>The Files API (docs/openai/files.md): upload, list, retrieve, delete, download.</summary>
public static class FilesApi
{
    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder routes)
    {
        var files = routes.MapGroup("/files");
        files.MapPost("/", UploadAsync);
        files.MapGet("/", List);
        files.MapGet("/{fileId}", Retrieve);
        files.MapDelete("/{fileId}", Delete);
        files.MapGet("/{fileId}/content", Content);
        return routes;
    }

    private static async Task<IResult> UploadAsync(HttpContext http, FileStore store, DataFolder folder, TimeProvider time,
        SandboxStats stats, ILoggerFactory loggers, CancellationToken ct)
    {
        // Kestrel's default body limit (~30 MB) is far below the Files API's 512 MB.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = FileLimits.MaxRequestBytes;
        }
        var fileId = Ids.NewFileId();
        var uploadPath = folder.FileUpload(fileId);
        try
        {
            var (upload, error) = await MultipartUpload.ReadAsync(http.Request, uploadPath, ct);
            if (error is not null) return error;
            var result = Check(upload!);
            if (result is not null) return result;

            var now = time.GetUtcNow().ToUnixTimeSeconds();
            long? expiresAt = upload!.ExpiresAfterSeconds is { } seconds
                ? now + long.Parse(seconds, CultureInfo.InvariantCulture)
                : upload.Purpose == "batch" ? now + FileLimits.DefaultBatchFileExpirySeconds : null;
            var record = new FileRecord
            {
                Id = fileId,
                Project = http.Project(),
                Filename = upload.FileName!,
                Purpose = upload.Purpose!,
                Bytes = upload.Bytes,
                CreatedAt = now,
                ExpiresAt = expiresAt,
                Seq = store.NextSeq(),
            };
            store.Add(record, uploadPath);
            stats.FileCreated();
            SandboxLog.FileUploaded(loggers.CreateLogger("BatchAspire.Sandbox.Files"), fileId, record.Bytes, record.Purpose);
            return new JsonBody(w => FileWire.Write(w, record));
        }
        finally
        {
            File.Delete(uploadPath);   // no-op once moved into place
        }
    }

    private static OpenAIError? Check(MultipartUpload upload)
    {
        if (upload.FileName is null) return OpenAIErrors.MissingParameter("file");
        if (upload.Purpose is null) return OpenAIErrors.MissingParameter("purpose");
        if (!FileLimits.UploadPurposes.Contains(upload.Purpose))
        {
            return OpenAIErrors.BadRequest(
                $"'{upload.Purpose}' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'",
                "purpose", "invalid_value");
        }
        if (upload.Purpose == "batch" && !upload.FileName.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            return OpenAIErrors.BadRequest("Invalid file format for Batch API. Must be .jsonl");
        }
        if (upload.FileTooLarge || (upload.Purpose == "batch" && upload.Bytes > FileLimits.MaxBatchFileBytes))
        {
            return OpenAIErrors.BadRequest("File is too large.");
        }
        if (upload.ExpiresAfterAnchor is { } anchor && anchor != "created_at")
        {
            return OpenAIErrors.BadRequest($"Invalid value for 'expires_after.anchor': '{anchor}'. Expected 'created_at'.", "expires_after", "invalid_value");
        }
        if (upload.ExpiresAfterSeconds is { } seconds &&
            (!long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ||
             value < FileLimits.MinExpirySeconds || value > FileLimits.MaxExpirySeconds))
        {
            return OpenAIErrors.BadRequest(
                $"Invalid value for 'expires_after.seconds': must be an integer between {FileLimits.MinExpirySeconds} and {FileLimits.MaxExpirySeconds}.",
                "expires_after", "invalid_value");
        }
        if (upload.ExpiresAfterSeconds is not null && upload.ExpiresAfterAnchor is null)
        {
            return OpenAIErrors.MissingParameter("expires_after[anchor]");
        }
        return null;
    }

    private static IResult List(HttpContext http, FileStore store, string? purpose, string? limit, string? order, string? after)
    {
        var pageSize = 10_000;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.Integer, CultureInfo.InvariantCulture, out pageSize) || pageSize is < 1 or > 10_000))
        {
            return OpenAIErrors.BadRequest("Invalid 'limit': must be an integer between 1 and 10000.", "limit", "invalid_value");
        }
        if (order is not null and not ("asc" or "desc"))
        {
            return OpenAIErrors.BadRequest("Invalid 'order': must be 'asc' or 'desc'.", "order", "invalid_value");
        }
        var (page, hasMore) = store.List(http.Project(), purpose, pageSize, order != "asc", after);
        return new JsonBody(w => FileWire.WriteList(w, page, hasMore));
    }

    private static IResult Retrieve(HttpContext http, FileStore store, string fileId) =>
        store.Find(http.Project(), fileId) is { } file
            ? new JsonBody(w => FileWire.Write(w, file))
            : OpenAIErrors.FileNotFound(fileId);

    private static IResult Delete(HttpContext http, FileStore store, string fileId)
    {
        if (store.Find(http.Project(), fileId) is null || !store.Delete(fileId)) return OpenAIErrors.FileNotFound(fileId);
        return new JsonBody(w =>
        {
            w.WriteStartObject();
            w.WriteString("id", fileId);
            w.WriteString("object", "file");
            w.WriteBoolean("deleted", true);
            w.WriteEndObject();
        });
    }

    private static IResult Content(HttpContext http, FileStore store, SandboxStats stats, string fileId)
    {
        if (store.Find(http.Project(), fileId) is null) return OpenAIErrors.FileNotFound(fileId);
        FileStream stream;
        try
        {
            stream = new FileStream(store.ContentPath(fileId), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return OpenAIErrors.FileNotFound(fileId);   // deleted between the lookup and the open
        }
        stats.FileDownload(fileId);
        // Never negotiate on Accept: the SDKs send application/binary, text/plain or application/json.
        return TypedResults.Stream(stream, "application/octet-stream");
    }
}
