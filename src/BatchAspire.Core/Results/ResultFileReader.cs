using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace BatchAspire.Core.Results;

/// <summary>Splits a JSONL stream into lines with a <see cref="PipeReader"/>: memory stays at the pipe's buffers plus one line.</summary>
public static class ResultFileReader
{
    /// <summary>
    /// Yields each non-blank line without its '\n' (and without a '\r' before it). An item is valid only until the
    /// next MoveNextAsync. A line longer than <paramref name="maxLineBytes"/> throws <see cref="InvalidDataException"/>.
    /// </summary>
    public static async IAsyncEnumerable<ReadOnlySequence<byte>> ReadLinesAsync(Stream stream, int maxLineBytes,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                var buffer = read.Buffer;
                while (TryTakeLine(ref buffer, out var line))
                {
                    if (line.Length > 0) yield return line;
                }
                if (read.IsCompleted)
                {
                    var last = TrimCarriageReturn(buffer);
                    if (last.Length > maxLineBytes) throw new InvalidDataException($"A result line is longer than {maxLineBytes} bytes.");
                    if (last.Length > 0) yield return last;
                    reader.AdvanceTo(buffer.End);
                    yield break;
                }
                if (buffer.Length > maxLineBytes) throw new InvalidDataException($"A result line is longer than {maxLineBytes} bytes.");
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static bool TryTakeLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var newline = buffer.PositionOf((byte)'\n');
        if (newline is not { } position)
        {
            line = default;
            return false;
        }
        line = TrimCarriageReturn(buffer.Slice(0, position));
        buffer = buffer.Slice(buffer.GetPosition(1, position));
        return true;
    }

    private static ReadOnlySequence<byte> TrimCarriageReturn(ReadOnlySequence<byte> line)
    {
        if (line.Length == 0) return line;
        var lastByte = line.Slice(line.Length - 1);
        return lastByte.FirstSpan[0] == (byte)'\r' ? line.Slice(0, line.Length - 1) : line;
    }
}
