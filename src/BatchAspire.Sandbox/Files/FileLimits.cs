namespace BatchAspire.Sandbox.Files;

public static class FileLimits
{
    public const long MaxFileBytes = 512L * 1024 * 1024;
    public const long MaxBatchFileBytes = 200L * 1024 * 1024;

    /// <summary>The request may be a little larger than the file: multipart headers and boundaries.</summary>
    public const long MaxRequestBytes = MaxFileBytes + 16 * 1024 * 1024;

    public const long DefaultBatchFileExpirySeconds = 30L * 24 * 3600;
    public const long MinExpirySeconds = 3600;
    public const long MaxExpirySeconds = 2_592_000;

    public static readonly string[] UploadPurposes = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"];
}
