using System.Net.Http.Headers;
using System.Text;

namespace BatchAspire.Conformance;

/// <summary>Multipart bodies byte-for-byte as each SDK sends them (docs/openai/files.md §2.1).</summary>
public static class Multipart
{
    public sealed record Part(string Headers, Stream Body);

    public static Part Field(string name, string value, string? headers = null) =>
        new(headers ?? $"Content-Disposition: form-data; name=\"{name}\"", new MemoryStream(Encoding.UTF8.GetBytes(value)));

    public static Part PythonFile(Stream content, string filename) =>
        new($"Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream", content);

    /// <summary>Python 2.x: purpose first, then file; 32 hex chars of boundary; Content-Length set.</summary>
    public static HttpContent PythonShaped(byte[] content, string filename, string purpose) =>
        Build(Guid.NewGuid().ToString("N"), quoted: false, chunked: false,
            Field("purpose", purpose), PythonFile(new MemoryStream(content), filename));

    /// <summary>Node ≥ 6.47 / 7.x: file first, then purpose; boundary <c>openai-…</c>; chunked, no Content-Length.</summary>
    public static HttpContent NodeSevenShaped(byte[] content, string filename, string purpose) =>
        Build("openai-" + Guid.NewGuid().ToString("N"), quoted: false, chunked: true,
            PythonFile(new MemoryStream(content), filename), Field("purpose", purpose));

    /// <summary>.NET 2.15: quoted 70-char boundary with '=', unquoted names with filename*, no file content type, typed purpose part.</summary>
    public static HttpContent DotNetShaped(byte[] content, string filename, string purpose)
    {
        var boundary = ("=_" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N") + "_=AbCdEfGhIjKlMnOpQrStUvWxYz")[..70];
        return Build(boundary, quoted: true, chunked: false,
            new Part($"Content-Disposition: form-data; name=file; filename={filename}; filename*=utf-8''{filename}", new MemoryStream(content)),
            Field("purpose", purpose, "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: form-data; name=purpose"));
    }

    public static HttpContent Build(string boundary, bool quoted, bool chunked, params Part[] parts)
    {
        var streams = new List<Stream>();
        foreach (var part in parts)
        {
            streams.Add(new MemoryStream(Encoding.UTF8.GetBytes($"--{boundary}\r\n{part.Headers}\r\n\r\n")));
            streams.Add(part.Body);
            streams.Add(new MemoryStream("\r\n"u8.ToArray()));
        }
        streams.Add(new MemoryStream(Encoding.UTF8.GetBytes($"--{boundary}--\r\n")));
        var body = new ConcatStream(streams, chunked);
        var content = new StreamContent(body, 256 * 1024);
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={(quoted ? $"\"{boundary}\"" : boundary)}");
        if (!chunked) content.Headers.ContentLength = body.TotalLength;
        return content;
    }

    /// <summary>Reads several streams one after another (not seekable, so HttpClient never buffers or rewinds it).</summary>
    private sealed class ConcatStream(List<Stream> parts, bool chunked) : Stream
    {
        private int _index;

        public long TotalLength => chunked ? throw new NotSupportedException() : parts.Sum(p => p.Length);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_index < parts.Count)
            {
                var read = parts[_index].Read(buffer, offset, count);
                if (read > 0) return read;
                _index++;
            }
            return 0;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) foreach (var part in parts) part.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>A stream of <paramref name="length"/> bytes of repeated JSONL, generated on the fly (big uploads without big buffers).</summary>
public sealed class RepeatedLinesStream(byte[] line, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => _position = value; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = (int)Math.Min(count, length - _position);
        for (var i = 0; i < n; i++) buffer[offset + i] = line[(int)((_position + i) % line.Length)];
        _position += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => length + offset,
    };
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
