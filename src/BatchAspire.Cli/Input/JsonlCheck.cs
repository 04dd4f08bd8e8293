using System.Buffers;
using System.Text.Json;

namespace BatchAspire.Cli.Input;

/// <summary>
/// Checks a file is JSONL before anything is uploaded: every line one JSON object. It reads the file once, a block at
/// a time, holding no more than the longest line. A blank line between requests is an error (the Batch API counts it
/// as an invalid line); blank lines at the very end are not. Returns the number of requests.
/// </summary>
public static class JsonlCheck
{
    private const int BlockSize = 1 << 16;

    public static async Task<long> CheckAsync(string path, CancellationToken ct)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BlockSize, useAsync: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.BadInputFile, $"Cannot read {path}: {e.Message}");
        }

        await using (file)
        {
            var line = new ArrayBufferWriter<byte>(BlockSize);
            var block = ArrayPool<byte>.Shared.Rent(BlockSize);
            var state = new State(path);
            try
            {
                int read;
                while ((read = await file.ReadAsync(block.AsMemory(0, BlockSize), ct)) > 0)
                {
                    var rest = block.AsSpan(0, read);
                    int newline;
                    while ((newline = rest.IndexOf((byte)'\n')) >= 0)
                    {
                        if (line.WrittenCount == 0)
                        {
                            state.Line(rest[..newline]);
                        }
                        else
                        {
                            line.Write(rest[..newline]);
                            state.Line(line.WrittenSpan);
                            line.ResetWrittenCount();
                        }
                        rest = rest[(newline + 1)..];
                    }
                    line.Write(rest);
                }
                if (line.WrittenCount > 0) state.Line(line.WrittenSpan);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(block);
            }
            if (state.Requests == 0) throw new CliException(ExitCodes.BadInputFile, $"{path} holds no requests.");
            return state.Requests;
        }
    }

    private sealed class State(string path)
    {
        private long _number;
        private long _firstBlankPending;

        public long Requests { get; private set; }

        public void Line(ReadOnlySpan<byte> line)
        {
            _number++;
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            if (line.Trim(" \t"u8).IsEmpty)
            {
                if (_firstBlankPending == 0) _firstBlankPending = _number;
                return;
            }
            if (_firstBlankPending != 0)
            {
                throw Bad(_firstBlankPending, "is empty (blank lines are allowed only at the end)");
            }
            // The JSON reader checks the bytes of tokens, not of string contents: a Latin-1 file would pass it.
            if (!System.Text.Unicode.Utf8.IsValid(line)) throw Bad(_number, "is not valid UTF-8");
            CheckObject(line);
            Requests++;
        }

        private void CheckObject(ReadOnlySpan<byte> line)
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            try
            {
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    throw Bad(_number, "is JSON but not an object");
                }
                reader.Skip();
                // Anything after the object but blanks makes the reader throw ("invalid after a single JSON value").
                reader.Read();
            }
            catch (JsonException e)
            {
                var why = e.Message;
                var cut = why.IndexOf(" LineNumber:", StringComparison.Ordinal);
                if (cut > 0) why = why[..cut].TrimEnd();
                throw Bad(_number, $"is not valid JSON (at byte {e.BytePositionInLine + 1}): {why}");
            }
        }

        private CliException Bad(long number, string what) =>
            new(ExitCodes.BadInputFile, $"{path} is not valid JSONL: line {number} {what}");
    }
}
