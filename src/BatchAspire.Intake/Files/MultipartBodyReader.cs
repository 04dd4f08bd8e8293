using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace BatchAspire.Intake.Files;

/// <summary>One part of a multipart/form-data body: its Content-Disposition header (null when it has none) and its bytes.</summary>
internal sealed record MultipartPart(string? ContentDisposition, Stream Body);

/// <summary>
/// Reads a multipart/form-data body (RFC 7578, RFC 2046 §5.1) straight off the request's <see cref="PipeReader"/>.
/// <c>MultipartReader</c> reads through a buffered stream and, for a span, a rented array: two copies before the
/// caller's. Here a part's bytes go from Kestrel's buffers into the caller's memory in one copy, which for a 200 MB
/// upload is a tenth of the intake's CPU. Malformed framing throws <see cref="InvalidDataException"/>; a body that
/// ends before its closing delimiter throws <see cref="IOException"/>.
/// </summary>
internal sealed class MultipartBodyReader
{
    private const int MaxPreambleBytes = 64 * 1024;
    private const int MaxHeaderBytes = 16 * 1024;

    private readonly PipeReader _body;
    private readonly byte[] _delimiter;   // CRLF "--" boundary: what ends a part
    private PartStream? _current;
    private bool _started;
    private bool _finished;

    public MultipartBodyReader(PipeReader body, string boundary)
    {
        _body = body;
        _delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
    }

    /// <summary>The next part (what is left of the current one is skipped); null after the closing delimiter.</summary>
    public async Task<MultipartPart?> ReadNextPartAsync(CancellationToken ct)
    {
        if (_finished) return null;
        if (_current is not null)
        {
            await _current.SkipRestAsync(ct);
        }
        else if (!_started)
        {
            await SkipPreambleAsync(ct);
            _started = true;
        }
        if (!await EndBoundaryLineAsync(ct))
        {
            _finished = true;
            _current = null;
            return null;
        }
        var disposition = await ReadHeadersAsync(ct);
        _current = new PartStream(this);
        return new MultipartPart(disposition, _current);
    }

    /// <summary>Everything before the first "--boundary" is preamble, to be ignored.</summary>
    private async Task SkipPreambleAsync(CancellationToken ct)
    {
        var dashBoundary = _delimiter.AsMemory(2);
        while (true)
        {
            var result = await _body.ReadAsync(ct);
            var buffer = result.Buffer;
            if (IndexOf(buffer, dashBoundary.Span) is var at and >= 0)
            {
                _body.AdvanceTo(buffer.GetPosition(at + dashBoundary.Length));
                return;
            }
            if (buffer.Length > MaxPreambleBytes) throw new InvalidDataException("No multipart boundary was found at the start of the body.");
            if (result.IsCompleted) throw new IOException("The multipart body ended before its first boundary.");
            _body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>After a delimiter: "--" closes the body (false); otherwise optional padding, then CRLF (true).</summary>
    private async Task<bool> EndBoundaryLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var result = await _body.ReadAsync(ct);
            var buffer = result.Buffer;
            if (new SequenceReader<byte>(buffer).IsNext("--"u8))
            {
                // The epilogue after the closing delimiter is ignored, like the preamble.
                _body.AdvanceTo(buffer.End);
                return false;
            }
            var reader = new SequenceReader<byte>(buffer);
            reader.AdvancePastAny((byte)' ', (byte)'\t');
            if (reader.IsNext("\r\n"u8, advancePast: true))
            {
                _body.AdvanceTo(reader.Position);
                return true;
            }
            if (reader.Remaining >= 2 || buffer.Length > 1024) throw new InvalidDataException("A multipart boundary line has unexpected characters after the boundary.");
            if (result.IsCompleted) throw new IOException("The multipart body ended before its closing boundary.");
            _body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Reads a part's header lines up to the empty line; returns its Content-Disposition value.</summary>
    private async Task<string?> ReadHeadersAsync(CancellationToken ct)
    {
        string? disposition = null;
        var read = 0L;
        while (true)
        {
            var result = await _body.ReadAsync(ct);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            while (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
            {
                read += line.Length + 2;
                if (read > MaxHeaderBytes) throw new InvalidDataException($"A multipart part's headers are longer than {MaxHeaderBytes} bytes.");
                if (line.IsEmpty)
                {
                    _body.AdvanceTo(reader.Position);
                    return disposition;
                }
                var text = Encoding.UTF8.GetString(line);
                var colon = text.IndexOf(':');
                if (colon <= 0) throw new InvalidDataException("A multipart part has a header line without a name.");
                if (text.AsSpan(0, colon).Trim().Equals(HeaderNames.ContentDisposition, StringComparison.OrdinalIgnoreCase))
                    disposition = text[(colon + 1)..].Trim();
            }
            if (read + reader.Remaining > MaxHeaderBytes) throw new InvalidDataException($"A multipart part's headers are longer than {MaxHeaderBytes} bytes.");
            if (result.IsCompleted) throw new IOException("The multipart body ended inside a part's headers.");
            _body.AdvanceTo(reader.Position, buffer.End);
        }
    }

    /// <summary>
    /// Copies up to <paramref name="destination"/>'s length of the current part's bytes; 0 once the part's delimiter
    /// is next (it is then consumed). Only the bytes that can hold a delimiter are searched, so a small destination
    /// does not rescan a large buffer.
    /// </summary>
    private async ValueTask<int> ReadPartAsync(Memory<byte> destination, CancellationToken ct)
    {
        while (true)
        {
            var result = await _body.ReadAsync(ct);
            var buffer = result.Buffer;
            var window = buffer.Slice(0, Math.Min(buffer.Length, destination.Length + (long)_delimiter.Length - 1));
            var at = IndexOf(window, _delimiter);
            if (at == 0)
            {
                _body.AdvanceTo(buffer.GetPosition(_delimiter.Length));
                return 0;
            }
            // With no delimiter in the window, its last bytes may still begin one: they wait for more data.
            var take = at > 0 ? Math.Min(at, destination.Length) : Math.Min(window.Length - (_delimiter.Length - 1), destination.Length);
            if (take > 0)
            {
                buffer.Slice(0, take).CopyTo(destination.Span);
                _body.AdvanceTo(buffer.GetPosition(take));
                return (int)take;
            }
            if (result.IsCompleted) throw new IOException("The multipart body ended before its closing boundary.");
            _body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static long IndexOf(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> value)
    {
        if (buffer.IsSingleSegment) return buffer.FirstSpan.IndexOf(value);
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, value, advancePastDelimiter: false) ? reader.Consumed : -1;
    }

    /// <summary>A read-only stream over the current part, ending at its delimiter.</summary>
    private sealed class PartStream(MultipartBodyReader owner) : Stream
    {
        private bool _ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_ended || buffer.IsEmpty) return 0;
            var read = await owner.ReadPartAsync(buffer, cancellationToken);
            _ended = read == 0;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public async Task SkipRestAsync(CancellationToken ct)
        {
            var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (await ReadAsync(scratch, ct) > 0) { }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read the part asynchronously.");
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
