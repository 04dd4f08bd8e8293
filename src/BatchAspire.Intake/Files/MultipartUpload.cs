using System.Diagnostics;
using BatchAspire.Core.Files;
using BatchAspire.Core.Telemetry;
using BatchAspire.Core.Tenants;
using BatchAspire.Storage;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Errors;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace BatchAspire.Intake.Files;

/// <summary>
/// <c>POST /files</c>: reads the multipart body part by part off the request's pipe (<see cref="MultipartBodyReader"/>)
/// and streams the <c>file</c> part straight into the store (no IFormFile, no buffering). Parts may
/// come in any order (Node 7 and .NET send the file before <c>purpose</c>), so the checks that need
/// both run once the body is read; what can be rejected earlier is rejected before the file is read.
/// </summary>
internal static class MultipartUpload
{
    /// <summary>Room for the multipart framing and the small fields around the file.</summary>
    private const long FramingAllowance = 1024 * 1024;
    private const int MaxFieldBytes = 4096;
    private const int MinExpirySeconds = 3600;
    private const int MaxExpirySeconds = 2_592_000;

    public static async Task<IResult> UploadAsync(HttpContext http, Tenant tenant, IFileStore store, IntakeOptions options, ILogger logger, CancellationToken ct)
    {
        // Kestrel's default body limit is 30,000,000 bytes; uploads may be up to MaxUploadBytes.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            bodySize.MaxRequestBodySize = options.MaxUploadBytes + FramingAllowance;
        if (http.Request.ContentLength > options.MaxUploadBytes + FramingAllowance) return OpenAIErrors.FileTooLarge();

        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
            return OpenAIErrors.BadRequest("Expected a multipart/form-data body with the fields 'file' and 'purpose'.");

        using var activity = IntakeTelemetry.Source.StartActivity("upload file");
        activity?.SetTag(TelemetryTags.Tenant, tenant.Id);
        var started = Stopwatch.GetTimestamp();
        var reader = new MultipartBodyReader(http.Request.BodyReader, boundary);
        string? purpose = null, filename = null, anchor = null, seconds = null;
        FileUpload? upload = null;
        try
        {
            while (await reader.ReadNextPartAsync(ct) is { } part)
            {
                if (!ContentDispositionHeaderValue.TryParse(part.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    continue;
                switch (HeaderUtilities.RemoveQuotes(disposition.Name).Value)
                {
                    case "file":
                        if (upload is not null) return OpenAIErrors.BadRequest("Only one file may be uploaded per request.", "file");
                        filename = FileNameOf(disposition);
                        if (Check(purpose, filename) is { } early) return early;
                        upload = store.BeginUpload(tenant.Id, new FileUploadLimits(options.MaxUploadBytes, options.MaxLineBytes, options.Quotas.For(tenant.Id)));
                        await upload.ReadFromAsync(part.Body, ct);
                        break;
                    case "purpose":
                        purpose = await ReadFieldAsync(part.Body, ct);
                        if (purpose is null) return OpenAIErrors.Invalid("purpose", "The purpose field is too long.");
                        if (Check(purpose, filename) is { } early2) return early2;
                        break;
                    case "expires_after[anchor]":
                        anchor = await ReadFieldAsync(part.Body, ct) ?? "";
                        break;
                    case "expires_after[seconds]":
                        seconds = await ReadFieldAsync(part.Body, ct) ?? "";
                        break;
                }
            }

            if (upload is null) return OpenAIErrors.Missing("file");
            if (purpose is null) return OpenAIErrors.Missing("purpose");
            if (Check(purpose, filename) is { } late) return late;
            if (ExpiresAfter(purpose, anchor, seconds, out var expiresAfter) is { } invalidExpiry) return invalidExpiry;

            var stored = await upload.CommitAsync(filename!, purpose, expiresAfter, ct);
            activity?.SetTag(TelemetryTags.FileId, stored.Id);
            IntakeTelemetry.RecordUpload(tenant.Id, stored.Bytes, Stopwatch.GetElapsedTime(started));
            IntakeLog.FileUploaded(logger, stored.Id, tenant.Id, stored.Bytes, stored.Lines);
            return TypedResults.Ok(FileObject.From(stored));
        }
        catch (FileTooLargeException)
        {
            return OpenAIErrors.FileTooLarge();
        }
        catch (QuotaExceededException e)
        {
            IntakeLog.QuotaExceeded(logger, tenant.Id, e.Limit.ToString());
            return OpenAIErrors.QuotaExceeded(e);
        }
        catch (BlobStoreFullException)
        {
            IntakeLog.StorageFull(logger, tenant.Id);
            return OpenAIErrors.StorageFull();
        }
        catch (BlobStoreUnavailableException)
        {
            IntakeLog.StorageUnavailable(logger, tenant.Id);
            return OpenAIErrors.StorageUnavailable();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return OpenAIErrors.FileTooLarge();
        }
        catch (InvalidDataException e)
        {
            // A malformed body (no boundary where one belongs, oversized or nameless headers).
            return OpenAIErrors.BadRequest("The multipart body could not be read: " + e.Message);
        }
        catch (IOException) when (!http.RequestAborted.IsCancellationRequested)
        {
            // The body ended before the closing boundary (a client that gave up gets the same, unread).
            return OpenAIErrors.BadRequest("The multipart body ended before its closing boundary.");
        }
        finally
        {
            // Uncommitted: deletes what was written, so a rejected or failed upload leaves nothing behind.
            if (upload is not null) await upload.DisposeAsync();
        }
    }

    /// <summary>The checks the real API makes at upload (docs/openai/files.md §2.2), as far as the parts read so far allow.</summary>
    private static IResult? Check(string? purpose, string? filename)
    {
        if (purpose is not null && !FilePurposes.Upload.Contains(purpose))
            return OpenAIErrors.Invalid("purpose",
                $"'{Shorten(purpose)}' is not one of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] - 'purpose'");
        if (purpose == FilePurposes.Batch && filename is not null && !filename.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            return OpenAIErrors.BadRequest("Invalid file format for Batch API. Must be .jsonl");
        return null;
    }

    private static IResult? ExpiresAfter(string purpose, string? anchor, string? seconds, out long? expiresAfter)
    {
        expiresAfter = purpose == FilePurposes.Batch ? FileLayout.DefaultExpirySeconds : null;
        if (anchor is null && seconds is null) return null;
        if (anchor != "created_at")
            return OpenAIErrors.Invalid("expires_after.anchor", "expires_after[anchor] must be 'created_at'.");
        if (!long.TryParse(seconds, out var value) || value is < MinExpirySeconds or > MaxExpirySeconds)
            return OpenAIErrors.Invalid("expires_after.seconds", $"expires_after[seconds] must be an integer between {MinExpirySeconds} and {MaxExpirySeconds}.");
        expiresAfter = value;
        return null;
    }

    /// <summary>filename* (RFC 5987, as .NET sends it) wins over filename; quoted or not.</summary>
    private static string FileNameOf(ContentDispositionHeaderValue disposition)
    {
        var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
        return string.IsNullOrEmpty(name) ? "file" : name;
    }

    /// <summary>Reads a small form field; null when it is longer than a field can sensibly be.</summary>
    private static async Task<string?> ReadFieldAsync(Stream body, CancellationToken ct)
    {
        var buffer = new byte[MaxFieldBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), ct)) > 0) length += read;
        return length > MaxFieldBytes ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }

    private static string Shorten(string value) => value.Length <= 64 ? value : value[..61] + "...";
}
