namespace BatchAspire.Sandbox.Storage;

/// <summary>A stored file's metadata (its bytes live beside it on disk).</summary>
public sealed record FileRecord
{
    public required string Id { get; init; }
    public required string Project { get; init; }
    public required string Filename { get; init; }
    public required string Purpose { get; init; }
    public required long Bytes { get; init; }
    public required long CreatedAt { get; init; }
    public long? ExpiresAt { get; init; }
    public required long Seq { get; init; }
}
