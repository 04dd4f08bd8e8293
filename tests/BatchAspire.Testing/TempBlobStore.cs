using BatchAspire.Storage;
using BatchAspire.Storage.FileSystem;

namespace BatchAspire.Testing;

/// <summary>A filesystem blob store in a fresh temporary folder (or in <c>root</c>), deleted on dispose.</summary>
public sealed class TempBlobStore : IDisposable
{
    public TempBlobStore(string? root = null)
    {
        Root = root ?? Directory.CreateTempSubdirectory("batchaspire-blobs-").FullName;
        Store = new FileSystemBlobStore(new BlobStoreOptions { Root = Root, Durable = false });
    }

    /// <summary>The folder to hand a host as <c>Blobs:Root</c>.</summary>
    public string Root { get; }

    public FileSystemBlobStore Store { get; }

    /// <summary>The names of every committed blob whose name starts with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(string prefix = "")
    {
        var names = new List<string>();
        await foreach (var blob in Store.ListAsync(prefix)) names.Add(blob.Name);
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
