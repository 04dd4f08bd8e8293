using System.Text;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>Hand-built multipart/form-data bodies, including broken ones (no closing boundary).</summary>
public static class Multipart
{
    private const string Boundary = "corpusboundary0123456789abcdef";

    /// <summary>The Python SDK's shape (docs/openai/files.md §2.1): <c>purpose</c>, then the file as octet-stream, quoted names.</summary>
    public static ByteArrayContent Python(string purpose, string fileName, byte[] content) =>
        Build([("purpose", null, Encoding.UTF8.GetBytes(purpose)), ("file", fileName, content)], close: true);

    /// <summary>Parts with a <c>FileName</c> are file parts; <paramref name="close"/> false leaves out the closing boundary.</summary>
    public static ByteArrayContent Build(IReadOnlyList<(string Name, string? FileName, byte[] Content)> parts, bool close)
    {
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        for (var i = 0; i < parts.Count; i++)
        {
            var (name, fileName, content) = parts[i];
            Write(i == 0 ? $"--{Boundary}\r\n" : $"\r\n--{Boundary}\r\n");
            Write(fileName is null
                ? $"Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                : $"Content-Disposition: form-data; name=\"{name}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            body.Write(content);
        }
        if (close) Write($"\r\n--{Boundary}--\r\n");
        var result = new ByteArrayContent(body.ToArray());
        result.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={Boundary}");
        return result;
    }
}
