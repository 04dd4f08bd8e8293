using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

public static class BatchStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Redis stores (<see cref="IFileStore"/>, <see cref="IJobStore"/>). Needs an
    /// <c>IConnectionMultiplexer</c>, e.g. from <c>builder.AddRedisClient(ResourceNames.Cache)</c>.
    /// </summary>
    public static IServiceCollection AddBatchStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IFileStore, RedisFileStore>();
        services.TryAddSingleton<IJobStore, RedisJobStore>();
        return services;
    }
}
