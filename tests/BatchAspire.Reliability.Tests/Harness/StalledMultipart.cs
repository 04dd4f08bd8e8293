using System.Net;
using System.Text;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>
/// A Python-shaped multipart upload (purpose, then the file) that sends the first half of the file, signals
/// <paramref name="halfSent"/>, and waits for <paramref name="resume"/> before sending the rest: the upload is in
/// flight, half stored, at a moment the test chooses.
/// </summary>
public sealed class StalledMultipart : HttpContent
{
    private readonly string _boundary = Guid.NewGuid().ToString("N");
    private readonly byte[] file;
    private readonly string fileName;
    private readonly TaskCompletionSource halfSent;
    private readonly Task resume;

    public StalledMultipart(byte[] file, string fileName, TaskCompletionSource halfSent, Task resume)
    {
        (this.file, this.fileName, this.halfSent, this.resume) = (file, fileName, halfSent, resume);
        Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={_boundary}");
    }

    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        SerializeToStreamAsync(stream, context, cancellationToken).GetAwaiter().GetResult();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(
            $"--{_boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n" +
            $"--{_boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n"), cancellationToken);
        var half = file.Length / 2;
        await stream.WriteAsync(file.AsMemory(0, half), cancellationToken);
        await stream.FlushAsync(cancellationToken);
        halfSent.TrySetResult();
        await resume;
        await stream.WriteAsync(file.AsMemory(half), cancellationToken);
        await stream.WriteAsync(Encoding.UTF8.GetBytes($"\r\n--{_boundary}--\r\n"), cancellationToken);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;   // sent chunked, as Node 7 sends uploads
    }
}
