using BatchAspire.Core.Files;

namespace BatchAspire.Core.Jobs;

public static class JobIds
{
    /// <summary><c>batch_</c> + 32 base62 characters.</summary>
    public static string New() => OpaqueIds.NewJobId();
}
