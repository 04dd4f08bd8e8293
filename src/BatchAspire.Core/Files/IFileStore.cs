namespace BatchAspire.Core.Files;

/// <summary>
/// Files: metadata in Redis, lines in the blob store (docs/architecture.md, "Storage" and "Redis data model"). Methods that serve a client request take
/// the tenant, and another tenant's id answers exactly as an unknown id does. Workers look files up by
/// id only, because they act on ids the intake already checked.
/// </summary>
public interface IFileStore
{
    /// <summary>Tenant-scoped lookup for client requests: another tenant's id answers null, like an unknown id.</summary>
    Task<StoredFile?> FindAsync(string tenant, string fileId, CancellationToken ct = default);

    /// <summary>Worker lookup by id (workers act only on ids the intake already checked).</summary>
    Task<StoredFile?> GetAsync(string fileId, CancellationToken ct = default);

    /// <summary>
    /// A writer for a new file built line by line (workers: job output/error files, nothing else).
    /// Nothing is visible until CommitAsync; disposing an uncommitted writer deletes what it wrote.
    /// </summary>
    FileWriter CreateWriter(string tenant, string filename, string purpose, long? expiresAt);

    /// <summary>
    /// Streams lines [firstLine, firstLine + count) of a stored file, 0-based, each WITHOUT its '\n'.
    /// An item's memory is valid only until the next MoveNextAsync (pooled buffers).
    /// </summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ReadLinesAsync(string fileId, long firstLine, long count, CancellationToken ct = default);

    /// <summary>Streams the given 0-based line indexes (ascending) of a stored file, each WITHOUT its '\n'.</summary>
    IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> ReadLinesAsync(string fileId, IReadOnlyList<long> ascendingIndexes, CancellationToken ct = default);

    /// <summary>Byte length (without '\n') of lines [firstLine, firstLine + count), for chunk planning without reading the file.</summary>
    IAsyncEnumerable<int> ReadLineLengthsAsync(string fileId, long firstLine, long count, CancellationToken ct = default);

    /// <summary>Streams the stored bytes exactly as uploaded or written (for GET /files/{id}/content).</summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ReadContentAsync(string fileId, CancellationToken ct = default);

    // Added for the intake.

    /// <summary>Starts streaming an upload for <paramref name="tenant"/> (see <see cref="FileUpload"/>).</summary>
    FileUpload BeginUpload(string tenant, FileUploadLimits limits);

    /// <summary>
    /// A page of the tenant's files, newest first unless <paramref name="ascending"/>, after the file
    /// <paramref name="after"/>. Null when <paramref name="after"/> is not one of the tenant's files.
    /// </summary>
    Task<FilePage?> ListAsync(string tenant, string? purpose, int limit, bool ascending, string? after, CancellationToken ct = default);

    /// <summary>Deletes one of the tenant's files; false when it is unknown (or another tenant's).</summary>
    Task<bool> DeleteAsync(string tenant, string fileId, CancellationToken ct = default);

    /// <summary>
    /// Deletes, with every key they have, up to <paramref name="max"/> files whose <c>expires_at</c> is before
    /// <paramref name="expiredBefore"/>; returns their ids. Expired files are hidden from their tenant at once
    /// (404, left out of lists); this frees their space.
    /// </summary>
    Task<IReadOnlyList<string>> DeleteExpiredAsync(DateTimeOffset expiredBefore, int max, CancellationToken ct = default);

    /// <summary>
    /// The line analysis of an uploaded <c>purpose=batch</c> file (null for other files): read from the file's hash,
    /// or, the first time, made by reading the file once (<see cref="FileAnalyzer"/>) and stored there.
    /// </summary>
    Task<FileAnalysis?> GetAnalysisAsync(string fileId, CancellationToken ct = default);
}
