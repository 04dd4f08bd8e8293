namespace BatchAspire.Storage;

/// <summary>The <c>Blobs</c> configuration section.</summary>
public sealed class BlobStoreOptions
{
    public const string Section = "Blobs";

    /// <summary><c>filesystem</c> (default) or <c>azure</c>.</summary>
    public string Provider { get; set; } = BlobStoreProviders.FileSystem;

    /// <summary>filesystem: the folder that holds the blobs (shared by every service on the host).</summary>
    public string? Root { get; set; }

    /// <summary>filesystem: flush each blob to disk before it becomes visible (off only for throwaway runs).</summary>
    public bool Durable { get; set; } = true;

    /// <summary>azure: the container that holds the blobs.</summary>
    public string Container { get; set; } = "batchaspire";
}

public static class BlobStoreProviders
{
    public const string FileSystem = "filesystem";
    public const string Azure = "azure";
}
