using System.Buffers;
using System.Text;
using BatchAspire.Sandbox.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace BatchAspire.Sandbox.Files;

/// <summary>
/// Reads an upload with <see cref="MultipartReader"/>, writing the file part straight to disk. Parts
/// may come in any order (Node 7 and .NET send the file before <c>purpose</c>), so limits that depend
/// on the purpose are checked once the whole body has been read.
/// </summary>
public sealed class MultipartUpload
{
    private const int MaxFieldBytes = 64 * 1024;

    public string? FileName { get; private set; }
    public long Bytes { get; private set; }
    public bool FileTooLarge { get; private set; }
    public string? Purpose { get; private set; }
    public string? ExpiresAfterAnchor { get; private set; }
    public string? ExpiresAfterSeconds { get; private set; }

    /// <summary>Returns an error to answer with, or null when the body was read.</summary>
    public static async Task<(MultipartUpload? Upload, OpenAIError? Error)> ReadAsync(HttpRequest request, string contentPath, CancellationToken ct)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) ||
            !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OpenAIErrors.BadRequest("Invalid Content-Type header, expected multipart/form-data."));
        }
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return (null, OpenAIErrors.BadRequest("Missing boundary in multipart/form-data Content-Type header."));
        }

        var upload = new MultipartUpload();
        // The default 4 KB buffer makes boundary scanning the bottleneck of large uploads.
        var reader = new MultipartReader(boundary, request.Body, 256 * 1024) { BodyLengthLimit = null };
        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    await Drain(section.Body, buffer, ct);
                    continue;
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file" && disposition.IsFileDisposition() && upload.FileName is null)
                {
                    var fileName = disposition.FileNameStar.HasValue
                        ? disposition.FileNameStar.Value
                        : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                    upload.FileName = Path.GetFileName(fileName ?? "") is { Length: > 0 } baseName ? baseName : "file";
                    await upload.CopyFileAsync(section.Body, contentPath, buffer, ct);
                    continue;
                }
                var value = await ReadFieldAsync(section.Body, buffer, ct);
                if (value is null) return (null, OpenAIErrors.BadRequest($"Form field '{name}' is too large.", name));
                switch (name)
                {
                    case "purpose": upload.Purpose = value; break;
                    case "expires_after[anchor]": upload.ExpiresAfterAnchor = value; break;
                    case "expires_after[seconds]": upload.ExpiresAfterSeconds = value; break;
                }
            }
        }
        catch (IOException e) when (e.InnerException is null && e.Message.Contains("multipart", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OpenAIErrors.BadRequest("Malformed multipart body: " + e.Message));
        }
        catch (InvalidDataException e)
        {
            return (null, OpenAIErrors.BadRequest("Malformed multipart body: " + e.Message));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (upload, null);
    }

    private async Task CopyFileAsync(Stream body, string contentPath, byte[] buffer, CancellationToken ct)
    {
        // When purpose came first the batch limit applies at once; otherwise stop writing past the absolute limit.
        var limit = Purpose == "batch" ? FileLimits.MaxBatchFileBytes : FileLimits.MaxFileBytes;
        await using var file = new FileStream(contentPath, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous);
        int read;
        while ((read = await body.ReadAsync(buffer, ct)) > 0)
        {
            Bytes += read;
            if (Bytes > limit) FileTooLarge = true;
            if (!FileTooLarge) await file.WriteAsync(buffer.AsMemory(0, read), ct);
        }
    }

    private static async Task<string?> ReadFieldAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        var total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer.AsMemory(total, Math.Min(buffer.Length - total, MaxFieldBytes + 1 - total)), ct)) > 0)
        {
            total += read;
            if (total > MaxFieldBytes)
            {
                await Drain(body, buffer, ct);
                return null;
            }
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static async Task Drain(Stream body, byte[] buffer, CancellationToken ct)
    {
        while (await body.ReadAsync(buffer, ct) > 0) { }
    }
}
