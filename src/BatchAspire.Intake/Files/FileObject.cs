using BatchAspire.Core.Files;

namespace BatchAspire.Intake.Files;

/// <summary>The File object (docs/openai/files.md §1). <c>status</c> is always <c>processed</c>: .NET throws on anything outside its enum.</summary>
public sealed class FileObject
{
    public required string Id { get; init; }
    public string Object => "file";
    public required long Bytes { get; init; }
    public required long CreatedAt { get; init; }
    public required long? ExpiresAt { get; init; }
    public required string Filename { get; init; }
    public required string Purpose { get; init; }
    public string Status => "processed";
    public string? StatusDetails => null;

    public static FileObject From(StoredFile file) => new()
    {
        Id = file.Id, Bytes = file.Bytes, CreatedAt = file.CreatedAt, ExpiresAt = file.ExpiresAt,
        Filename = file.Filename, Purpose = file.Purpose,
    };
}

/// <summary>The answer to <c>DELETE /files/{id}</c>.</summary>
public sealed class FileDeleted
{
    public required string Id { get; init; }
    public string Object => "file";
    public bool Deleted => true;
}
