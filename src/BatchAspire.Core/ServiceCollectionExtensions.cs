using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class BatchStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the stores (<see cref="IFileStore"/>, <see cref="IJobStore"/>, <see cref="BlobDeletions"/>): metadata in
    /// Redis, payload in the blob store. Needs an <c>IConnectionMultiplexer</c>, e.g. from
    /// <c>builder.AddRedisClient(ResourceNames.Cache)</c>, and an <c>IBlobStore</c>, from <c>builder.AddBlobStore()</c>.
    /// </summary>
    public static IServiceCollection AddBatchStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BlobDeletions>();
        services.TryAddSingleton<IFileStore, RedisFileStore>();
        services.TryAddSingleton<IJobStore, RedisJobStore>();
        return services;
    }
}
