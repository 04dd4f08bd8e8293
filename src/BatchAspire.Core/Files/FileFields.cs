namespace BatchAspire.Core.Files;

/// <summary>Field names of the file hash (<c>RedisKeys.File(fileId)</c>).</summary>
public static class FileFields
{
    public const string Tenant = "tenant";
    public const string Filename = "filename";
    public const string Purpose = "purpose";
    public const string Bytes = "bytes";
    public const string CreatedAt = "created_at";
    public const string ExpiresAt = "expires_at";
    public const string Lines = "lines";
    public const string Segments = "segments";
    public const string Sequence = "seq";
    /// <summary>The file's blobs: its <see cref="LinePart"/>s in order (one for an upload, several for an assembled file).</summary>
    public const string Parts = "parts";

    // The analysis of an uploaded file (see FileAnalysis).
    public const string Errors = "errors";
    public const string ErrorCount = "error_count";
    public const string Urls = "urls";
    public const string Models = "models";
    public const string MethodsOk = "methods_ok";
    public const string ModelMissingLine = "model_missing_line";
    public const string MaxLineBytes = "max_line_bytes";
}

/// <summary>The purposes of the File object (docs/openai/files.md §1) and the subset an upload may name.</summary>
public static class FilePurposes
{
    public const string Batch = "batch";
    public const string BatchOutput = "batch_output";

    /// <summary>Values <c>POST /files</c> accepts (docs/openai/files.md §2).</summary>
    public static readonly IReadOnlySet<string> Upload =
        new HashSet<string>(["assistants", Batch, "fine-tune", "vision", "user_data", "evals"], StringComparer.Ordinal);
}

/// <summary>Layout constants of stored files (docs/architecture.md).</summary>
public static class FileLayout
{
    /// <summary>An upload hands its bytes to the blob store in stretches of about this many, each ending at a line end unless one line alone is longer.</summary>
    public const int SegmentBytes = 1 << 20;

    /// <summary>Default expiry of <c>purpose=batch</c> uploads and of batch output files: 30 days.</summary>
    public const long DefaultExpirySeconds = 30L * 24 * 3600;
}
