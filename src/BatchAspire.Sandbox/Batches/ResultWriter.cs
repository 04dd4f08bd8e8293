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
/// </remarks>
public sealed class ResultWriter : IDisposable
{
    private const int FlushThreshold = 48 * 1024;
    private static readonly JsonWriterOptions Options = Http.WireJson.Unchecked;

    private readonly FileStream _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(FlushThreshold + 16 * 1024);
    private readonly Utf8JsonWriter _json;

    public ResultWriter(string path, long length, long lines)
    {
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
        _file.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
    }

    public void Dispose()
    {
        _json.Dispose();
        _file.Dispose();
    }
}
