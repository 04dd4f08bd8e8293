namespace BatchAspire.Submitter.Submitting;

/// <summary>
/// A read-only, forward-only stream of a chunk's JSONL: each stored line followed by '\n', produced as the reader
/// asks for bytes. The SDK sends it chunked (it is not seekable), so neither side ever holds the chunk.
/// </summary>
internal sealed class ChunkLineStream(IAsyncEnumerable<ReadOnlyMemory<byte>> lines, CancellationToken ct) : Stream
{
    private IAsyncEnumerator<ReadOnlyMemory<byte>>? _lines;
    private ReadOnlyMemory<byte> _current;
    private bool _newlinePending;
    private bool _done;

    public long BytesRead { get; private set; }

    public long LinesRead { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var written = 0;
        while (written < buffer.Length && !_done)
        {
            if (_current.Length > 0)
            {
                var take = Math.Min(_current.Length, buffer.Length - written);
                _current.Span[..take].CopyTo(buffer.Span[written..]);
                _current = _current[take..];
                written += take;
                continue;
            }
            if (_newlinePending)
            {
                buffer.Span[written++] = (byte)'\n';
                _newlinePending = false;
                continue;
            }
            // Only ask for the next line once this one is fully copied: the store's line memory is valid until then.
            if (written > 0 && buffer.Length - written < 64) break;
            _lines ??= lines.GetAsyncEnumerator(ct);
            if (!await _lines.MoveNextAsync())
            {
                _done = true;
                break;
            }
            _current = _lines.Current;
            // The intake accepts a UTF-8 BOM at the start of a line (a file saved by an editor that writes one, or
            // several such files concatenated); a provider reads it as a line that is not JSON and refuses the
            // whole batch. The file keeps its bytes; the provider gets the request.
            if (_current.Span.StartsWith("\uFEFF"u8)) _current = _current[3..];
            _newlinePending = true;
            LinesRead++;
        }
        BytesRead += written;
        return written;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The SDK's synchronous upload path would end up here; block rather than buffer.
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (_lines is not null) await _lines.DisposeAsync();
        _lines = null;
        await base.DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _lines is not null)
        {
            _lines.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _lines = null;
        }
        base.Dispose(disposing);
    }
}
