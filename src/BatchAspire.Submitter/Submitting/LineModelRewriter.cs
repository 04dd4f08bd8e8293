using System.Text.Json;
using BatchAspire.Core.Jsonl;

namespace BatchAspire.Submitter.Submitting;

/// <summary>
/// Replaces <c>body.model</c> of each line with the provider's model name (a route's <c>Model</c>: for azure the deployment
/// name) as the chunk streams to the Files API. One splice per line: a <see cref="Utf8JsonReader"/> finds the value's
/// bytes, and the line is copied around them into one buffer that is reused for the next line, so memory stays flat and
/// every other byte of the line goes out as the user wrote it.
/// </summary>
public sealed class LineModelRewriter
{
    private readonly byte[] _model;
    private byte[] _buffer = new byte[4096];

    public LineModelRewriter(string model)
    {
        var encoded = JsonEncodedText.Encode(model).EncodedUtf8Bytes;
        _model = new byte[encoded.Length + 2];
        _model[0] = (byte)'"';
        encoded.CopyTo(_model.AsSpan(1));
        _model[^1] = (byte)'"';
    }

    /// <summary>How many bytes longer a line gets at most (0 when the new name is not longer than <paramref name="model"/>).</summary>
    public static int Growth(string model, string newModel) =>
        Math.Max(0, JsonEncodedText.Encode(newModel).EncodedUtf8Bytes.Length - JsonEncodedText.Encode(model).EncodedUtf8Bytes.Length);

    /// <summary>
    /// <paramref name="line"/> with the new model name, valid until the next call (the buffer is reused). A leading UTF-8
    /// BOM is dropped, as the upload stream drops it. A line without a string <c>body.model</c> is returned as it is: the
    /// intake has checked every line has one, and the provider's own check reports one that does not.
    /// </summary>
    public ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> line)
    {
        if (line.Span.StartsWith("\uFEFF"u8)) line = line[3..];
        var span = line.Span;
        if (!TryFindModel(span, out var start, out var length)) return line;
        var size = span.Length - length + _model.Length;
        if (_buffer.Length < size) _buffer = new byte[Math.Max(size, _buffer.Length * 2)];
        span[..start].CopyTo(_buffer);
        _model.CopyTo(_buffer.AsSpan(start));
        span[(start + length)..].CopyTo(_buffer.AsSpan(start + _model.Length));
        return _buffer.AsMemory(0, size);
    }

    /// <summary>Where the string value of the top-level <c>body</c>'s <c>model</c> lies in <paramref name="line"/>, quotes included.</summary>
    public static bool TryFindModel(ReadOnlySpan<byte> line, out int start, out int length)
    {
        start = length = 0;
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            if (!RequestBody.TryReadProperty(ref reader, "model"u8) || reader.TokenType != JsonTokenType.String) return false;
            start = (int)reader.TokenStartIndex;
            length = (int)reader.BytesConsumed - start;
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
