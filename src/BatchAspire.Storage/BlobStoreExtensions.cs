using BatchAspire.Storage;
using BatchAspire.Storage.Azure;
using BatchAspire.Storage.FileSystem;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class BlobStoreExtensions
{
    /// <summary>
    /// Registers the <see cref="IBlobStore"/> the <c>Blobs</c> section names: <c>filesystem</c> (default; needs
    /// <c>Blobs:Root</c>) or <c>azure</c> (needs the connection string <paramref name="connectionName"/>).
    /// </summary>
    public static IHostApplicationBuilder AddBlobStore(this IHostApplicationBuilder builder, string connectionName = "blobs")
    {
        var options = builder.Configuration.GetSection(BlobStoreOptions.Section).Get<BlobStoreOptions>() ?? new BlobStoreOptions();
        builder.Services.TryAddSingleton<IBlobStore>(_ => Create(options, builder.Configuration.GetConnectionString(connectionName)));
        return builder;
    }

    /// <summary>The store <paramref name="options"/> describe (tests and benchmarks build one without a host).</summary>
    public static IBlobStore Create(BlobStoreOptions options, string? connectionString = null) =>
        options.Provider.ToLowerInvariant() switch
        {
            BlobStoreProviders.FileSystem => new FileSystemBlobStore(options),
            BlobStoreProviders.Azure => new AzureBlobStore(options, string.IsNullOrWhiteSpace(connectionString)
                ? throw new InvalidOperationException("Blobs:Provider is azure but no connection string names the storage account.")
                : connectionString),
            _ => throw new InvalidOperationException($"Blobs:Provider '{options.Provider}' is not one of: filesystem, azure."),
        };
}
