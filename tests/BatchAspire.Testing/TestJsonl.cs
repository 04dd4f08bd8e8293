using System.Text;

namespace BatchAspire.Testing;

/// <summary>
/// Builds JSONL test files. Not named Jsonl: code in <c>BatchAspire.Core.Tests.*</c> would find the namespace
/// <c>BatchAspire.Core.Jsonl</c> first.
/// </summary>
public static class TestJsonl
{
    public static string Request(string customId, string model = "gpt-4o-mini", string url = "/v1/chat/completions", string content = "Hi") =>
        $$$"""{"custom_id":"{{{customId}}}","method":"POST","url":"{{{url}}}","body":{"model":"{{{model}}}","messages":[{"role":"user","content":"{{{content}}}"}]}}""";

    public static byte[] File(params string[] lines) => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));

    /// <summary><paramref name="count"/> valid requests whose lengths vary (so segment ends fall mid-line).</summary>
    public static List<string> VariedRequests(int count, int seed = 7)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => Request($"req-{i}", content: new string('x', random.Next(1, 600))))];
    }
}

/// <summary>A stream that hands out at most a few bytes per read, like a slow network.</summary>
public sealed class TricklingStream(byte[] data, int maxRead) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(Math.Min(buffer.Length, maxRead), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
