using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using BatchAspire.Sandbox.Http;

namespace BatchAspire.Sandbox.Messages;

/// <summary>
/// Reads the body of <c>POST /v1/messages/batches</c> (<c>{"requests":[{"custom_id","params"},…]}</c>, up to 256 MB)
/// as it arrives and writes each request to the batch's input file as one line, checking the shape the real API checks
/// before it accepts a batch. Only one request at a time is held (the pipe keeps the bytes of the request being read),
/// and custom_ids are remembered as 128-bit hashes, so memory does not grow with the body. The <c>params</c> themselves
/// are checked when the request runs: a bad one becomes an <c>errored</c> result, as on the real API.
/// </summary>
public sealed class MessageBatchRequests
{
    public const int MaxRequests = 100_000;
    public const long MaxBodyBytes = 256L * 1024 * 1024;
    private const int MaxCustomIdLength = 64;
    private const string CustomIdPattern = "^[a-zA-Z0-9_-]{1,64}$";

    private enum Stage { Start, Root, Requests, Done }

    private readonly Stream _output;
    private readonly HashSet<UInt128> _customIds = [];
    private JsonReaderState _state = new(new JsonReaderOptions { MaxDepth = 256 });
    private Stage _stage;
    private bool _sawRequests;

    private MessageBatchRequests(Stream output) => _output = output;

    public long Count { get; private set; }
    public AnthropicError? Error { get; private set; }

    /// <summary>Copies the requests of <paramref name="body"/> into <paramref name="path"/>; the error to answer, if any.</summary>
    public static async Task<MessageBatchRequests> CopyAsync(PipeReader body, string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024);
        var requests = new MessageBatchRequests(file);
        while (true)
        {
            var read = await body.ReadAsync(ct);
            var buffer = read.Buffer;
            var consumed = requests.Feed(buffer, read.IsCompleted);
            if (requests.Error is not null)
            {
                body.AdvanceTo(buffer.End);
                return requests;
            }
            body.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
            if (read.IsCompleted) break;
        }
        if (requests._stage != Stage.Done) requests.Fail("The request body is not valid JSON.");
        else if (!requests._sawRequests) requests.Fail("requests: Field required");
        else if (requests.Count == 0) requests.Fail("requests: List should have at least 1 item after validation, not 0");
        return requests;
    }

    /// <summary>Reads whole units (a root property, one request) and returns how many bytes they took.</summary>
    private long Feed(ReadOnlySequence<byte> buffer, bool isFinal)
    {
        var reader = new Utf8JsonReader(buffer, isFinal, _state);
        long consumed = 0;
        try
        {
            while (Error is null)
            {
                if (!reader.Read()) break;
                switch (_stage)
                {
                    case Stage.Start:
                        if (reader.TokenType != JsonTokenType.StartObject) return Fail("The request body must be a JSON object.");
                        _stage = Stage.Root;
                        break;
                    case Stage.Root:
                        if (reader.TokenType == JsonTokenType.EndObject)
                        {
                            _stage = Stage.Done;
                            break;
                        }
                        var isRequests = reader.ValueTextEquals("requests"u8);
                        if (!reader.Read()) return consumed;
                        if (isRequests)
                        {
                            if (reader.TokenType != JsonTokenType.StartArray) return Fail("requests: Input should be a valid list");
                            _sawRequests = true;
                            _stage = Stage.Requests;
                        }
                        else if (!reader.TrySkip())
                        {
                            return consumed;
                        }
                        break;
                    case Stage.Requests:
                        if (reader.TokenType == JsonTokenType.EndArray)
                        {
                            _stage = Stage.Root;
                            break;
                        }
                        if (reader.TokenType != JsonTokenType.StartObject) return Fail($"requests.{Count}: Input should be a valid dictionary");
                        var start = reader.TokenStartIndex;
                        if (!reader.TrySkip()) return consumed;
                        Take(buffer.Slice(start, reader.BytesConsumed - start));
                        break;
                    case Stage.Done:
                        return Fail("The request body is not valid JSON.");
                }
                consumed = reader.BytesConsumed;
                _state = reader.CurrentState;
            }
        }
        catch (JsonException)
        {
            return Fail("The request body is not valid JSON.");
        }
        return consumed;
    }

    private long Fail(string message)
    {
        Error ??= AnthropicErrors.BadRequest(message);
        return 0;
    }

    private void Take(ReadOnlySequence<byte> request)
    {
        var index = Count;
        if (index == MaxRequests)
        {
            Fail($"requests: a Message Batch can hold at most {MaxRequests:N0} requests");
            return;
        }
        string? customId = null;
        bool hasCustomId = false, hasParams = false;
        var reader = new Utf8JsonReader(request, new JsonReaderOptions { MaxDepth = 256 });
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("custom_id"u8))
            {
                reader.Read();
                hasCustomId = true;
                customId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    Fail($"requests.{index}.params: Input should be a valid dictionary");
                    return;
                }
                hasParams = true;
                reader.Skip();
            }
            else
            {
                Fail($"requests.{index}.{reader.GetString()}: Extra inputs are not permitted");
                return;
            }
        }
        if (!hasCustomId)
        {
            Fail($"requests.{index}.custom_id: Field required");
            return;
        }
        if (customId is null || !IsValidCustomId(customId))
        {
            Fail($"requests.{index}.custom_id: String should match pattern '{CustomIdPattern}'");
            return;
        }
        if (!hasParams)
        {
            Fail($"requests.{index}.params: Field required");
            return;
        }
        if (!_customIds.Add(Digest(customId)))
        {
            Fail($"requests.{index}.custom_id: Duplicate custom_id '{customId}': each request of a batch needs its own");
            return;
        }
        WriteLine(request);
        Count++;
    }

    /// <summary>128 bits of SHA-256: 100,000 ids collide with a chance of about 10^-29, at 16 bytes each.</summary>
    private static UInt128 Digest(string customId)
    {
        Span<byte> utf8 = stackalloc byte[MaxCustomIdLength];   // the id is checked: at most 64 ASCII characters
        var length = System.Text.Encoding.ASCII.GetBytes(customId, utf8);
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(utf8[..length], hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private static bool IsValidCustomId(string id)
    {
        if (id.Length is 0 or > MaxCustomIdLength) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-')) return false;
        }
        return true;
    }

    /// <summary>
    /// The request as sent, on one line: a raw CR or LF in valid JSON can only be whitespace between tokens (inside
    /// strings they are escaped), so turning them into spaces keeps the JSON and its meaning.
    /// </summary>
    private void WriteLine(ReadOnlySequence<byte> request)
    {
        foreach (var segment in request)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                var breakAt = span.IndexOfAny((byte)'\r', (byte)'\n');
                if (breakAt < 0)
                {
                    _output.Write(span);
                    break;
                }
                _output.Write(span[..breakAt]);
                _output.WriteByte((byte)' ');
                span = span[(breakAt + 1)..];
            }
        }
        _output.WriteByte((byte)'\n');
    }
}
