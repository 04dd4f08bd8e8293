using System.Text;
using System.Text.Json;

namespace BatchAspire.Load;

/// <summary>The benchmark's input: one JSONL file of small chat requests, ids <c>req-{i}</c>.</summary>
internal sealed record RequestFile(string Path, int Lines, long Bytes, IReadOnlyList<long> LineOffsets)
{
    private static readonly string[] Reviews =
    [
        "I love this product! It's amazing!", "Terrible experience, would not recommend.", "It's okay, nothing special.",
        "Best purchase I've ever made!", "Waste of money.", "Arrived late but works fine.", "Great value for the price.",
    ];

    public static async Task<RequestFile> CreateAsync(int lines)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"batchaspire-load-{Guid.NewGuid():N}.jsonl");
        var offsets = new List<long>(lines + 1);
        await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var line = new StringBuilder(256);
        for (var i = 0; i < lines; i++)
        {
            offsets.Add(file.Position);
            line.Clear()
                .Append("{\"custom_id\":\"req-").Append(i)
                .Append("\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-5-nano\",\"messages\":[")
                .Append("{\"role\":\"system\",\"content\":\"Classify sentiment as: positive, negative, or neutral\"},")
                .Append("{\"role\":\"user\",\"content\":").Append(JsonSerializer.Serialize(Reviews[i % Reviews.Length])).Append("}],\"max_tokens\":10}}\n");
            await file.WriteAsync(Encoding.UTF8.GetBytes(line.ToString()));
        }
        offsets.Add(file.Position);
        return new RequestFile(path, lines, file.Position, offsets);
    }

    /// <summary>A read-only view of lines [first, first + count).</summary>
    public Stream OpenLines(int first, int count)
    {
        var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        stream.Position = LineOffsets[first];
        return new RangeStream(stream, LineOffsets[first + count] - LineOffsets[first]);
    }

    private sealed class RangeStream(Stream inner, long length) : Stream
    {
        private long _read;
        private long Remaining => length - _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            if (Remaining <= 0) return 0;
            var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, Remaining)]);
            _read += read;
            return read;
        }
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Remaining <= 0) return 0;
            var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, Remaining)], cancellationToken);
            _read += read;
            return read;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
