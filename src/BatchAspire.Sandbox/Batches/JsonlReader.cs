using System.Buffers;

namespace BatchAspire.Sandbox.Batches;

/// <summary>
/// Reads a JSONL file line by line through one pooled buffer (it grows only for a line longer than
/// itself), so memory stays flat whatever the file size. A returned line is valid until the next
/// <see cref="Fill"/>.
/// </summary>
public sealed class JsonlReader : IDisposable
{
    // Under the large object heap's threshold (85,000 bytes), so pooled buffers of short-lined files never land there.
    private const int InitialBuffer = 64 * 1024;
    private const int MaxLineBytes = 256 * 1024 * 1024;

    private readonly FileStream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;
    private long _bufferOffset;   // file offset of _buffer[0]

    public JsonlReader(string path, long offset = 0, long lineNumber = 0)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.SequentialScan);
        _stream.Seek(offset, SeekOrigin.Begin);
        _bufferOffset = offset;
        LineNumber = lineNumber;
        _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    }

    /// <summary>1-based number of the last line returned.</summary>
    public long LineNumber { get; private set; }

    /// <summary>File offset just past the last line returned.</summary>
    public long Offset => _bufferOffset + _start;

    /// <summary>The next line without its <c>\n</c> (and <c>\r</c>), if one is in the buffer.</summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        var available = _buffer.AsSpan(_start, _end - _start);
        var newline = available.IndexOf((byte)'\n');
        int length, consumed;
        if (newline >= 0)
        {
            length = newline;
            consumed = newline + 1;
        }
        else if (_eof && available.Length > 0)
        {
            length = consumed = available.Length;
        }
        else
        {
            line = default;
            return false;
        }
        if (length > 0 && available[length - 1] == (byte)'\r') length--;
        line = _buffer.AsMemory(_start, length);
        _start += consumed;
        LineNumber++;
        return true;
    }

    /// <summary>Reads more of the file; false once the file is exhausted.</summary>
    public bool Fill()
    {
        if (_eof) return _start < _end;
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _bufferOffset += _start;
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineBytes) throw new InvalidDataException($"A line is longer than {MaxLineBytes} bytes.");
            var bigger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
        var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _eof = true;
        _end += read;
        return read > 0 || _start < _end;
    }

    public static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8).IsEmpty;

    public void Dispose()
    {
        _stream.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
    }
}
