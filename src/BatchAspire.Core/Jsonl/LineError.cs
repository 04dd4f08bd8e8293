namespace BatchAspire.Core.Jsonl;

/// <summary>
/// An item of a batch's <c>errors.data[]</c> (docs/openai/batches.md §3): a code, a message, the offending
/// parameter and the 1-based line of the input file, where they apply.
/// </summary>
public sealed record LineError(string Code, string Message, string? Param, long? Line)
{
    public static LineError InvalidJson(long line) =>
        new(LineErrorCodes.InvalidJsonLine, "This line is not parseable as valid JSON.", null, line);

    public static LineError NotAnObject(long line) =>
        new(LineErrorCodes.InvalidValue, "Each line must be a JSON object with custom_id, method, url and body.", null, line);

    public static LineError Missing(long line, string param) =>
        new(LineErrorCodes.MissingRequiredParameter, $"Missing required parameter: '{param}'.", param, line);

    public static LineError Invalid(long line, string param, string message) =>
        new(LineErrorCodes.InvalidValue, message, param, line);

    public static LineError TooLong(long line, long bytes, long limit) =>
        new(LineErrorCodes.RequestTooLarge, $"This line is {bytes} bytes; a request line may have at most {limit} bytes.", null, line);

    public static LineError DuplicateCustomId(long line, string customId) =>
        new(LineErrorCodes.DuplicateCustomId, $"The custom_id '{Shorten(customId)}' is used by an earlier line; custom_id values must be unique within a file.", "custom_id", line);

    public static string Shorten(string value) => value.Length <= 64 ? value : string.Concat(value.AsSpan(0, 61), "...");
}

/// <summary>The <c>errors.data[].code</c> values BatchAspire reports (docs/openai/batches.md §6.2, plus the per-line structure codes).</summary>
public static class LineErrorCodes
{
    public const string InvalidJsonLine = "invalid_json_line";
    public const string DuplicateCustomId = "duplicate_custom_id";
    public const string UrlMismatch = "url_mismatch";
    public const string ModelMismatch = "model_mismatch";
    public const string EmptyFile = "empty_file";
    public const string TooManyTasks = "too_many_tasks";
    public const string MissingRequiredParameter = "missing_required_parameter";
    public const string InvalidValue = "invalid_value";
    public const string RequestTooLarge = "request_too_large";
}
