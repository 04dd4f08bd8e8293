using BatchAspire.Contracts;
using BatchAspire.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// What the trace list shows while nothing happens: background loops (poll claims every 250 ms to 4 s, sweepers every
/// 1 s to 10 min) must leave no trace of their own, only the work they find does, inside its job's trace.
/// </summary>
[Collection(nameof(AppHostCollection))]
public sealed class IdleTraceTests(AppHostFixture fixture)
{
    /// <summary>
    /// 40 s: longer than every loop's interval but the expired-file sweeper's 10 minutes (the re-publisher's 30 s is the
    /// longest), than the Redis instrumentation's 10 s flush and the 0.5 s export delay the fixture sets. The 10-minute
    /// sweeper ran its round at start; the test checks every Redis root span since start for that one.
    /// </summary>
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(40);

    [Fact]
    public async Task BackgroundLoopsThatFindNothingExportNoRootTrace()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] services = [ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];
        // Spans of what an earlier test did (its last request) arrive within the fixture's 0.5 s export delay: let them.
        await Task.Delay(TimeSpan.FromSeconds(3), ct);
        var before = fixture.Telemetry.Spans.Select(s => s.SpanId).ToHashSet();

        await Task.Delay(IdleWindow, ct);

        var roots = fixture.Telemetry.Spans.Where(s => s.ParentSpanId.Length == 0 && services.Contains(s.Service)).ToList();
        var newRoots = roots.Where(s => !before.Contains(s.SpanId)).ToList();
        var loopRoots = newRoots.Where(s => !s.Attributes.ContainsKey("batchaspire.job_id")).ToList();
        var redisRoots = roots.Where(IsRedisCommand).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{fixture.Telemetry.Spans.Count} spans since start; in {IdleWindow.TotalSeconds} s idle: {newRoots.Count} new root spans, " +
            $"{loopRoots.Count} without a job; Redis command roots since start: {redisRoots.Count}");

        Assert.True(loopRoots.Count == 0, "root traces from idle loops: " + Describe(loopRoots));
        Assert.True(redisRoots.Count == 0, "Redis commands exported as traces of their own: " + Describe(redisRoots));
    }

    private static bool IsRedisCommand(ReceivedSpan span) =>
        span.Attributes.GetValueOrDefault("db.system") == "redis" || span.Attributes.GetValueOrDefault("db.system.name") == "redis";

    private static string Describe(IEnumerable<ReceivedSpan> spans) =>
        string.Join(", ", spans.GroupBy(s => $"{s.Service}: {s.Name}").Select(g => $"{g.Key} ×{g.Count()}"));
}
