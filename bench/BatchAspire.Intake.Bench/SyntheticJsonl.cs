using System.Text;

namespace BatchAspire.Intake.Bench;

/// <summary>
/// A JSONL file of <c>lines</c> chat requests of equal length adding up to about <c>targetBytes</c>,
/// generated as it is read (the benchmark never holds a whole file either).
/// </summary>
internal sealed class SyntheticJsonl
{
    private const string Words = "the quick brown fox jumps over the lazy dog and ";
    private static readonly byte[] Padding = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Words, 256)));
    private readonly int _lineLength;

    public SyntheticJsonl(int lines, long targetBytes)
    {
        Lines = lines;
        _lineLength = (int)(targetBytes / lines);
        Length = (long)_lineLength * lines;
    }

    public int Lines { get; }

    public long Length { get; }

    public Stream Open() => new LineStream(this);

    /// <summary>Line <paramref name="index"/>, padded with prompt text to the common length, ending in '\n'.</summary>
    private void Write(int index, Span<byte> destination)
    {
        var head = $$"""{"custom_id":"request-{{index:D7}}","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Classify the sentiment of this review: """;
        const string tail = "\"}],\"max_tokens\":100}}";
        var written = Encoding.UTF8.GetBytes(head, destination);
        var pad = _lineLength - 1 - written - tail.Length;
        if (pad < 0) throw new InvalidOperationException("Lines are too short for the target size.");
        var start = index % Words.Length;
        for (var filled = 0; filled < pad;)
        {
            var n = Math.Min(pad - filled, Padding.Length - start);
            Padding.AsSpan(start, n).CopyTo(destination[(written + filled)..]);
            filled += n;
            start = 0;
        }
        written += pad;
        written += Encoding.UTF8.GetBytes(tail, destination[written..]);
        destination[written] = (byte)'\n';
    }

    private sealed class LineStream(SyntheticJsonl file) : Stream
    {
        private readonly byte[] _line = new byte[file._lineLength];
        private int _index;
        private int _offset = file._lineLength;   // nothing buffered yet
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => file.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                if (_offset == _line.Length)
                {
                    if (_index == file.Lines) break;
                    file.Write(_index++, _line);
                    _offset = 0;
                }
                var n = Math.Min(buffer.Length - total, _line.Length - _offset);
                _line.AsSpan(_offset, n).CopyTo(buffer[total..]);
                _offset += n;
                total += n;
            }
            _position += total;
            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
