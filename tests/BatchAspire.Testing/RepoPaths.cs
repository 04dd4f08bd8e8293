using System.Reflection;

namespace BatchAspire.Testing;

/// <summary>Where the repository's checkout is, for tests that read its sources or tools.</summary>
public static class RepoPaths
{
    public static string Root { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string Src => Path.Combine(Root, "src");
}
