namespace BatchAspire.Storage;

/// <summary>
/// Where BatchAspire keeps payload: uploaded files, result runs, output files (docs/architecture.md, "Storage").
/// Blobs are immutable once committed and are named by the services from ids they made, never from user input
/// (<see cref="BlobNames"/>). Two backends pass one conformance suite: <see cref="FileSystem.FileSystemBlobStore"/>
/// (a folder, the default) and the Azure backend (Azure Blob Storage, Azurite locally).
/// </summary>
/// <remarks>
/// Errors: <see cref="BlobStoreUnavailableException"/> means the store did not answer (an outage: callers retry later,
/// a message is never dead-lettered for it); <see cref="BlobStoreFullException"/> means it has no room (the caller
/// fails the operation cleanly); <see cref="BlobNotFoundException"/> means no committed blob has that name.
/// </remarks>
public interface IBlobStore
{
    /// <summary>
    /// Starts a new blob. Nothing is visible under <paramref name="name"/> until <see cref="IBlobWriter.CommitAsync"/>;
    /// a writer disposed without committing (or a process killed mid-write) leaves nothing under that name.
    /// </summary>
    IBlobWriter OpenWrite(string name);

    /// <summary>
    /// Streams bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>) of a committed
    /// blob, or to its end when <paramref name="length"/> is null. Throws <see cref="BlobNotFoundException"/>.
    /// </summary>
    Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken ct = default);

    /// <summary>The committed blob's size and time, or null when there is none.</summary>
    Task<BlobProperties?> GetPropertiesAsync(string name, CancellationToken ct = default);

    /// <summary>Deletes a committed blob; false when there was none (deleting twice is not an error).</summary>
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);

    /// <summary>Committed blobs whose names start with <paramref name="prefix"/>, in no particular order.</summary>
    IAsyncEnumerable<BlobProperties> ListAsync(string prefix, CancellationToken ct = default);

    /// <summary>
    /// Frees what writers that never committed left behind (a killed process), when older than
    /// <paramref name="olderThan"/>; returns how many were freed. Backends whose service frees them on its own return 0.
    /// </summary>
    Task<int> DeleteAbandonedAsync(TimeSpan olderThan, CancellationToken ct = default);
}

/// <summary>A committed blob.</summary>
public sealed record BlobProperties(string Name, long Length, DateTimeOffset LastModified);

/// <summary>Writes one new blob, appending; see <see cref="IBlobStore.OpenWrite"/>.</summary>
public interface IBlobWriter : IAsyncDisposable
{
    string Name { get; }

    /// <summary>Bytes written so far.</summary>
    long Length { get; }

    /// <summary>Appends <paramref name="data"/>. When the returned task completes, the caller may reuse its memory.</summary>
    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>
    /// Makes the blob visible, whole, under its name, in one step (durable when the store is). A name is written
    /// once: committing over an existing blob replaces it with identical bytes only in a retried write, never partly.
    /// </summary>
    Task CommitAsync(CancellationToken ct = default);
}

/// <summary>The blob store did not answer (down, unreachable, timing out): an outage, retried later.</summary>
public sealed class BlobStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The blob store has no room for what was written; nothing of it is kept.</summary>
public sealed class BlobStoreFullException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>No committed blob has this name.</summary>
public sealed class BlobNotFoundException(string name, Exception? inner = null) : Exception($"No blob named '{name}'.", inner)
{
    public string Name { get; } = name;
}
