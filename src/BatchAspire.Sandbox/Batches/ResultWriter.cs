using System.Buffers;
using System.Text.Json;

namespace BatchAspire.Sandbox.Batches;

/// <summary>
/// Appends result lines to an output or error file through a reusable buffer. Reopening with a
/// checkpointed length drops whatever was written after that checkpoint.
/// </summary>
/// <remarks>
/// The buffer stays under the large object heap's 85,000-byte threshold: two writers per batch, four batches at a
/// time, each a new array that only a full collection would take back from the large object heap.
/// With <c>reorder</c>, the lines of each buffered block reach the file in reverse order: Anthropic's Message Batches
/// API returns results in no particular order, and a client that relied on input order must fail here too.
/// </remarks>
public sealed class ResultWriter : IDisposable
{
    private const int FlushThreshold = 48 * 1024;
    private static readonly JsonWriterOptions Options = Http.WireJson.Unchecked;

    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + 16 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly List<int>? _lineEnds;

    public ResultWriter(string path, long length, long lines, bool reorder = false)
    {
        _lineEnds = reorder ? [] : null;
        _file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, 0);
        _file.SetLength(length);
        _file.Seek(length, SeekOrigin.Begin);
        _json = new Utf8JsonWriter(_buffer, Options);
        Lines = lines;
    }

    public long Lines { get; private set; }

    public long Bytes => _file.Position + _buffer.WrittenCount;

    public Utf8JsonWriter BeginLine()
    {
        _json.Reset(_buffer);
        return _json;
    }

    public void EndLine()
    {
        _json.Flush();
        _buffer.Write("\n"u8);
        _lineEnds?.Add(_buffer.WrittenCount);
        Lines++;
        if (_buffer.WrittenCount >= FlushThreshold) WriteBuffer();
    }

    public void Flush()
    {
        WriteBuffer();
        _file.Flush();
    }

    private void WriteBuffer()
    {
        if (_buffer.WrittenCount == 0) return;
        if (_lineEnds is { Count: > 1 })
        {
            var written = _buffer.WrittenSpan;
            for (var i = _lineEnds.Count - 1; i >= 0; i--)
            {
                var start = i == 0 ? 0 : _lineEnds[i - 1];
                _file.Write(written[start.._lineEnds[i]]);
            }
        }
        else
        {
            _file.Write(_buffer.WrittenSpan);
        }
        _lineEnds?.Clear();
        _buffer.ResetWrittenCount();
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
    }
}
