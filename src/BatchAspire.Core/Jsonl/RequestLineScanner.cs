using System.Text.Json;
using System.Text.Unicode;

namespace BatchAspire.Core.Jsonl;

/// <summary>What one input line says about itself: the fields a batch request line must carry.</summary>
internal struct RequestLineInfo
{
    public bool IsJson;
    public bool IsObject;
    public JsonTokenType CustomIdToken;
    /// <summary>The custom_id string: always when its JSON text has escapes, otherwise unless the scan was asked not to read it.</summary>
    public string? CustomId;
    /// <summary>Where the custom_id's bytes are in the line; they are its value unless <see cref="CustomIdEscaped"/>.</summary>
    public int CustomIdOffset;
    public int CustomIdLength;
    public bool CustomIdEscaped;
    public JsonTokenType MethodToken;
    public bool MethodIsPost;
    public JsonTokenType UrlToken;
    public string? Url;
    public JsonTokenType BodyToken;
    public JsonTokenType ModelToken;
    public string? Model;
    /// <summary><c>body.stream</c> is <c>true</c>: the Batch API does not stream, and a provider refuses the whole batch for it.</summary>
    public bool StreamRequested;

    /// <summary>A non-empty string custom_id.</summary>
    public readonly bool HasCustomId =>
        CustomIdToken == JsonTokenType.String && (CustomId is { } value ? value.Length > 0 : CustomIdLength > 0);
}

/// <summary>
/// Reads one JSONL line with <see cref="Utf8JsonReader"/> (no DOM, no copy of the line): checks it
/// is one valid JSON value and picks out <c>custom_id</c>, <c>method</c>, <c>url</c>, <c>body</c>
/// and <c>body.model</c>. Repeated url and model values are returned as the same string instance,
/// so a file of 50,000 identical urls allocates one; custom_id is returned as a position in the line.
/// </summary>
internal sealed class RequestLineScanner
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 256 };
    private readonly ValueCache _urls = new();
    private readonly ValueCache _models = new();

    /// <param name="line">One line, without its '\n'.</param>
    /// <param name="readCustomId">False to get the custom_id as a position only (no string) unless it is escaped.</param>
    public RequestLineInfo Scan(ReadOnlySpan<byte> line, bool readCustomId = true)
    {
        var info = new RequestLineInfo();
        var bom = line.StartsWith("\uFEFF"u8) ? 3 : 0;   // a UTF-8 BOM before the first line
        line = line[bom..];
        // JSON text is UTF-8 (RFC 8259 §8.1). Utf8JsonReader checks that only when a string is decoded, so a line with
        // stray bytes would read as valid here and then fail at the provider (the whole batch) or in our own readers.
        if (!Utf8.IsValid(line)) return info;
        var reader = new Utf8JsonReader(line, Options);
        try
        {
            if (!reader.Read()) return info;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                info.IsJson = !reader.Read();
                return info;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("custom_id"u8) && info.CustomIdToken == JsonTokenType.None)
                {
                    reader.Read();
                    info.CustomIdToken = reader.TokenType;
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        info.CustomIdEscaped = reader.ValueIsEscaped;
                        if (readCustomId || reader.ValueIsEscaped) info.CustomId = reader.GetString();
                        info.CustomIdOffset = bom + (int)reader.TokenStartIndex + 1;   // after the opening quote
                        info.CustomIdLength = reader.ValueSpan.Length;
                    }
                }
                else if (reader.ValueTextEquals("method"u8) && info.MethodToken == JsonTokenType.None)
                {
                    reader.Read();
                    info.MethodToken = reader.TokenType;
                    info.MethodIsPost = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("POST"u8);
                }
                else if (reader.ValueTextEquals("url"u8) && info.UrlToken == JsonTokenType.None)
                {
                    reader.Read();
                    info.UrlToken = reader.TokenType;
                    if (reader.TokenType == JsonTokenType.String) info.Url = _urls.Get(ref reader);
                }
                else if (reader.ValueTextEquals("body"u8) && info.BodyToken == JsonTokenType.None)
                {
                    reader.Read();
                    info.BodyToken = reader.TokenType;
                    if (reader.TokenType == JsonTokenType.StartObject) ScanBody(ref reader, ref info);
                }
                else
                {
                    reader.Read();
                }
                reader.Skip();   // no-op on a scalar; skips a nested object or array
            }
            // One value per line: anything after the object is an error (Read throws) or the end (false).
            info.IsJson = !reader.Read();
            info.IsObject = info.IsJson;
        }
        catch (JsonException)
        {
            info = new RequestLineInfo();
        }
        return info;
    }

    private void ScanBody(ref Utf8JsonReader reader, ref RequestLineInfo info)
    {
        var depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            // At depth+1 each token here is a property name of body.
            var isModel = reader.ValueTextEquals("model"u8) && info.ModelToken == JsonTokenType.None;
            var isStream = !isModel && reader.ValueTextEquals("stream"u8);
            reader.Read();
            if (isModel)
            {
                info.ModelToken = reader.TokenType;
                if (reader.TokenType == JsonTokenType.String) info.Model = _models.Get(ref reader);
            }
            else if (isStream && reader.TokenType == JsonTokenType.True)
            {
                info.StreamRequested = true;
            }
            reader.Skip();
        }
    }

    /// <summary>Returns the previous string when the raw bytes repeat (the common case in one file).</summary>
    private sealed class ValueCache
    {
        private byte[] _lastRaw = [];
        private string? _last;

        public string Get(ref Utf8JsonReader reader)
        {
            if (!reader.HasValueSequence && !reader.ValueIsEscaped && _last is not null && reader.ValueSpan.SequenceEqual(_lastRaw))
                return _last;
            var value = reader.GetString()!;
            if (!reader.HasValueSequence && !reader.ValueIsEscaped && reader.ValueSpan.Length <= 1024)
            {
                _lastRaw = reader.ValueSpan.ToArray();
                _last = value;
            }
            return value;
        }
    }
}
