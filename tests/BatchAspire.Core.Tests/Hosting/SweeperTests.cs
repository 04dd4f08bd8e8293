using System.Collections.Concurrent;
using BatchAspire.Core.Hosting;
using BatchAspire.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace BatchAspire.Core.Tests.Hosting;

public sealed class SweeperTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ARoundThatSaysMoreIsDueIsFollowedAtOnceAndAnIdleRoundWaitsTheInterval()
    {
        // Three full claims, then nothing: the backlog drains in four rounds without waiting the (long) interval.
        var sweeper = new ScriptedSweeper(TimeSpan.FromMinutes(5), round => round < 3);
        await sweeper.StartAsync(Ct);
        await sweeper.WaitForRoundsAsync(4);
        await Task.Delay(200, Ct);
        await sweeper.StopAsync(Ct);

        Assert.Equal(4, sweeper.Rounds.Count);
        Assert.True(sweeper.Rounds[3] - sweeper.Rounds[0] < TimeSpan.FromSeconds(2), "a round with more due must not wait the interval");
    }

    [Theory]
    [InlineData("timeout")]
    [InlineData("canceled")]   // StackExchange.Redis may fail a command with a canceled task while it reconnects: no shutdown
    public async Task AFailedRoundIsLoggedAndTheNextRoundStillRunsEvenWhenTheFailureIsACanceledTask(string failure)
    {
        Exception error = failure == "timeout" ? new TimeoutException("Redis away") : new TaskCanceledException("a Redis command");
        var sweeper = new ScriptedSweeper(TimeSpan.FromMilliseconds(20), round => round == 0 ? throw error : false);
        await sweeper.StartAsync(Ct);
        await sweeper.WaitForRoundsAsync(3);
        await sweeper.StopAsync(Ct);

        Assert.True(sweeper.Rounds.Count >= 3);
        Assert.False(sweeper.ExecuteTask!.IsFaulted);
    }

    [Fact]
    public void OnlyACancellationWhileTheHostStopsCountsAsTheHostStopping()
    {
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        Assert.True(new TaskCanceledException().IsHostStopping(stopped.Token));
        Assert.True(new OperationCanceledException().IsHostStopping(stopped.Token));
        Assert.False(new TaskCanceledException().IsHostStopping(CancellationToken.None));
        Assert.False(new TimeoutException().IsHostStopping(stopped.Token));
    }

    [Fact]
    public void EveryBackgroundLoopCatchesFailuresWithTheSameStoppingRule()
    {
        // A loop that lets a stray cancellation escape stops its whole host (a poller did, under load, in CI).
        var loops = Directory.EnumerateFiles(RepoPaths.Src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !p.Contains("BatchAspire.Sandbox"))
            .Select(p => (Path: p, Text: File.ReadAllText(p)))
            .Where(f => f.Text.Contains(": BackgroundService", StringComparison.Ordinal) || f.Text.Contains(": Sweeper(", StringComparison.Ordinal))
            .Where(f => f.Text.Contains("catch (Exception", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(loops);
        foreach (var (path, text) in loops)
        {
            Assert.DoesNotContain("is not OperationCanceledException)", text);
        }
    }

    [Fact]
    public async Task StoppingTheHostEndsTheLoopDuringItsWait()
    {
        var sweeper = new ScriptedSweeper(TimeSpan.FromHours(1), _ => false);
        await sweeper.StartAsync(Ct);
        await sweeper.WaitForRoundsAsync(1);
        var stop = sweeper.StopAsync(Ct);
        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(5), Ct)));
        Assert.True(sweeper.ExecuteTask!.IsCompletedSuccessfully);
    }

    [Fact]
    public void EveryBackgroundLoopOfTheServicesIsASweeperOrThePoller()
    {
        // The poller's loop is its own (claims paced by due times, not an interval); the Sandbox is a stand-in provider
        // that shares no code with BatchAspire. Everything else that loops in the background is a Sweeper.
        var loops = Directory.EnumerateFiles(RepoPaths.Src, "*.cs", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !p.Contains("BatchAspire.Sandbox"))
            .Where(p => File.ReadAllText(p).Contains(": BackgroundService", StringComparison.Ordinal))
            .Select(p => Path.GetFileName(p))
            .Order()
            .ToList();
        Assert.Equal(["PollerWorker.cs", "Sweeper.cs"], loops);
    }

    private sealed class ScriptedSweeper(TimeSpan interval, Func<int, bool> round)
        : Sweeper(TimeProvider.System, NullLogger.Instance)
    {
        private readonly ConcurrentQueue<DateTimeOffset> _rounds = new();

        public IReadOnlyList<DateTimeOffset> Rounds => [.. _rounds];

        protected override TimeSpan Interval => interval;

        protected override Task<bool> SweepRoundAsync(CancellationToken ct)
        {
            var number = _rounds.Count;
            _rounds.Enqueue(DateTimeOffset.UtcNow);
            return Task.FromResult(round(number));
        }

        public async Task WaitForRoundsAsync(int count)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (_rounds.Count < count) await Task.Delay(10, timeout.Token);
        }
    }
}
