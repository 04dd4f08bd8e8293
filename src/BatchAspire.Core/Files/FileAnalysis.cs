using System.Buffers;
using System.Text.Json;
using BatchAspire.Core.Jsonl;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>A distinct value seen in a file (a line's url or body.model) and the 1-based line that first used it.</summary>
public sealed record FirstSeen(string Value, long Line);

/// <summary>
/// What the upload learned about a file's lines, stored with the file so that batch creation can
/// check it against an endpoint without reading the file again. Endpoint-independent problems are in
/// <see cref="Errors"/> (the first <see cref="FileAnalysisBuilder.MaxErrors"/> by line); the distinct
/// urls and models (first <see cref="FileAnalysisBuilder.MaxDistinct"/>) let the endpoint checks run later.
/// </summary>
public sealed record FileAnalysis(
    IReadOnlyList<LineError> Errors,
    long ErrorCount,
    IReadOnlyList<FirstSeen> Urls,
    IReadOnlyList<FirstSeen> Models,
    long? ModelMissingLine,
    bool MethodsOk)
{
    /// <summary>
    /// Files with more lines than this are not checked for duplicate custom_ids (the check holds 8 bytes a line in
    /// memory); no batch may have that many requests (<c>Intake:MaxRequestsPerBatch</c> is bounded by it).
    /// </summary>
    public const long MaxLinesCheckedForDuplicates = 10_000_000;

    internal HashEntry[] ToHashEntries()
    {
        var entries = new List<HashEntry>
        {
            new(FileFields.Errors, WriteErrors(Errors)),
            new(FileFields.ErrorCount, ErrorCount),
            new(FileFields.Urls, WriteFirstSeen(Urls)),
            new(FileFields.Models, WriteFirstSeen(Models)),
            new(FileFields.MethodsOk, MethodsOk ? 1 : 0),
        };
        if (ModelMissingLine is { } line) entries.Add(new(FileFields.ModelMissingLine, line));
        return [.. entries];
    }

    internal static FileAnalysis? FromHash(IReadOnlyDictionary<string, RedisValue> hash)
    {
        if (!hash.TryGetValue(FileFields.Errors, out var errors)) return null;
        return new FileAnalysis(
            ReadErrors(errors),
            (long)hash.GetValueOrDefault(FileFields.ErrorCount, 0),
            ReadFirstSeen(hash.GetValueOrDefault(FileFields.Urls)),
            ReadFirstSeen(hash.GetValueOrDefault(FileFields.Models)),
            hash.TryGetValue(FileFields.ModelMissingLine, out var missing) ? (long)missing : null,
            hash.GetValueOrDefault(FileFields.MethodsOk) == 1);
    }

    /// <summary>JSON array text of <c>{code,message,param,line}</c> objects (the job hash's <c>errors</c> field uses it too).</summary>
    public static string WriteErrors(IEnumerable<LineError> errors)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var e in errors)
            {
                json.WriteStartObject();
                json.WriteString("code"u8, e.Code);
                json.WriteString("message"u8, e.Message);
                if (e.Param is null) json.WriteNull("param"u8); else json.WriteString("param"u8, e.Param);
                if (e.Line is { } l) json.WriteNumber("line"u8, l); else json.WriteNull("line"u8);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads what <see cref="WriteErrors"/> wrote.</summary>
    public static IReadOnlyList<LineError> ReadErrors(RedisValue text)
    {
        if (text.IsNullOrEmpty) return [];
        using var doc = JsonDocument.Parse((ReadOnlyMemory<byte>)text);
        return [.. doc.RootElement.EnumerateArray().Select(e => new LineError(
            e.GetProperty("code").GetString()!,
            e.GetProperty("message").GetString()!,
            e.TryGetProperty("param", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
            e.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt64() : null))];
    }

    private static string WriteFirstSeen(IEnumerable<FirstSeen> values)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var v in values)
            {
                json.WriteStartObject();
                json.WriteString("value"u8, v.Value);
                json.WriteNumber("line"u8, v.Line);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static IReadOnlyList<FirstSeen> ReadFirstSeen(RedisValue text)
    {
        if (text.IsNullOrEmpty) return [];
        using var doc = JsonDocument.Parse((ReadOnlyMemory<byte>)text);
        return [.. doc.RootElement.EnumerateArray().Select(e =>
            new FirstSeen(e.GetProperty("value").GetString()!, e.GetProperty("line").GetInt64()))];
    }
}

/// <summary>Accumulates a <see cref="FileAnalysis"/> line by line in bounded memory.</summary>
internal sealed class FileAnalysisBuilder(long maxLineBytes)
{
    public const int MaxErrors = 100;
    public const int MaxDistinct = 32;

    private readonly List<LineError> _errors = [];
    private readonly List<FirstSeen> _urls = [];
    private readonly List<FirstSeen> _models = [];
    private long _errorCount;
    private long? _modelMissingLine;
    private bool _methodsOk = true;

    public long ErrorCount => _errorCount;

    /// <summary>Adds the checks of one line (1-based <paramref name="line"/>).</summary>
    public void Add(long line, in RequestLineInfo info)
    {
        if (!info.IsJson) { AddError(LineError.InvalidJson(line)); return; }
        if (!info.IsObject) { AddError(LineError.NotAnObject(line)); return; }

        if (info.CustomIdToken == JsonTokenType.None) AddError(LineError.Missing(line, "custom_id"));
        else if (!info.HasCustomId) AddError(LineError.Invalid(line, "custom_id", "custom_id must be a non-empty string."));

        if (info.MethodToken == JsonTokenType.None) { _methodsOk = false; AddError(LineError.Missing(line, "method")); }
        else if (!info.MethodIsPost) { _methodsOk = false; AddError(LineError.Invalid(line, "method", "Invalid value for 'method': only POST is supported.")); }

        if (info.UrlToken == JsonTokenType.None) AddError(LineError.Missing(line, "url"));
        else if (info.Url is null) AddError(LineError.Invalid(line, "url", "url must be a string such as '/v1/chat/completions'."));
        else Remember(_urls, info.Url, line);

        if (info.BodyToken == JsonTokenType.None) AddError(LineError.Missing(line, "body"));
        else if (info.BodyToken != JsonTokenType.StartObject) AddError(LineError.Invalid(line, "body", "body must be a JSON object."));
        else if (info.ModelToken == JsonTokenType.None) _modelMissingLine ??= line;
        else if (string.IsNullOrEmpty(info.Model)) AddError(LineError.Invalid(line, "body.model", "body.model must be a non-empty string."));
        else Remember(_models, info.Model, line);

        // docs/openai/lines.md §1: the Batch API does not stream. A provider refuses the whole batch for one such line, so it is
        // reported here, on its own line, rather than failing every request that shares its chunk.
        if (info.StreamRequested) AddError(LineError.Invalid(line, "body.stream", "Streaming is not supported by the Batch API."));
    }

    /// <summary>A line longer than the configured maximum: not parsed, reported.</summary>
    public void AddTooLong(long line, long bytes) => AddError(LineError.TooLong(line, bytes, maxLineBytes));

    public void AddError(LineError error)
    {
        _errorCount++;
        _errors.Add(error);
        // Errors can arrive slightly out of line order (duplicate checks complete asynchronously):
        // keep the lowest lines, trimming only now and then.
        if (_errors.Count >= 4 * MaxErrors) Trim();
    }

    public FileAnalysis Build()
    {
        Trim();
        return new FileAnalysis([.. _errors], _errorCount, [.. _urls], [.. _models], _modelMissingLine, _methodsOk);
    }

    private void Trim()
    {
        _errors.Sort(static (a, b) => Nullable.Compare(a.Line, b.Line));
        if (_errors.Count > MaxErrors) _errors.RemoveRange(MaxErrors, _errors.Count - MaxErrors);
    }

    private static void Remember(List<FirstSeen> seen, string value, long line)
    {
        if (seen.Count > 0 && ReferenceEquals(seen[^1].Value, value)) return;   // the cached string of a repeat
        foreach (var s in seen) if (s.Value == value) return;
        if (seen.Count < MaxDistinct) seen.Add(new FirstSeen(value, line));
    }
}
