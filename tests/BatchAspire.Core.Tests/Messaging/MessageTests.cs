using System.Text.RegularExpressions;
using BatchAspire.Contracts;
using BatchAspire.Testing;

namespace BatchAspire.Core.Tests.Messaging;

/// <summary>
/// Messages are the services' contract: one that nobody consumes is a promise nobody keeps, and one published from
/// a place nobody knows about is a meaning nobody wrote down. Read from the sources, so a new message or a new
/// publisher shows up here.
/// </summary>
public sealed partial class MessageTests
{
    private static readonly Type[] Messages =
        [.. typeof(JobAccepted).Assembly.GetExportedTypes().Where(t => t.Namespace == typeof(JobAccepted).Namespace && t.GetMethod("<Clone>$") is not null)];

    private static readonly IReadOnlyList<(string Path, string Text)> Sources =
    [
        .. Directory.EnumerateFiles(RepoPaths.Src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Select(p => (Path.GetRelativePath(RepoPaths.Root, p), File.ReadAllText(p))),
    ];

    public static TheoryData<string> MessageNames => [.. Messages.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void EveryMessageHasAConsumer(string message)
    {
        var consumers = Sources.Where(s => s.Text.Contains($"IConsumer<{message}>", StringComparison.Ordinal)).Select(s => s.Path).ToList();
        Assert.True(consumers.Count > 0, $"{message} has no consumer in src/: consume it or remove it.");
    }

    [Theory]
    [MemberData(nameof(MessageNames))]
    public void EveryMessageIsPublishedByOneServiceForOneReason(string message)
    {
        var publishers = Sources.Where(s => Regex.IsMatch(s.Text, $@"new {message}\b\s*\{{")).Select(s => ServiceOf(s.Path)).Distinct().ToList();
        Assert.True(publishers.Count > 0, $"{message} is never published.");
        // Two messages are sent by two services for one reason. ChunkClosed: the submitter closes a chunk it meets while a
        // job stops, and JobStopper (Providers, used by the submitter and results) closes the rest. ChunkFinished: the
        // poller announces a provider batch's end, and results announces it again when that announcement was lost
        // (ChunkFinishedRepublisher).
        Assert.True(publishers.Count == 1 || message is nameof(ChunkClosed) or nameof(ChunkFinished),
            $"{message} is published from {string.Join(", ", publishers)}; one message, one meaning, one publisher.");
    }

    [Fact]
    public void TheMessagesAreTheOnesDocumented()
    {
        var architecture = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "architecture.md"));
        foreach (var message in Messages) Assert.Contains($"`{message.Name}`", architecture);
    }

    private static string ServiceOf(string path) => path.Split(Path.DirectorySeparatorChar)[1];
}
