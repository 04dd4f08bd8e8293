using BatchAspire.Contracts;
using BatchAspire.Reliability.Tests.Harness;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// Kills at random points: while jobs run, a random service (submitter, a poller replica, results, intake, the
/// provider itself, or Redis) is SIGKILLed at a random moment and restarted after a random pause, several times per job. CI
/// runs one round; <c>BATCHASPIRE_SOAK_ITERATIONS=N</c> (scripts/soak.sh) runs N rounds, and
/// <c>BATCHASPIRE_SOAK_SEED</c> replays a sequence (the seed is printed in the test output).
/// </summary>
[Collection(nameof(ReliabilityCollection))]
public sealed class RandomKillTests(ReliabilityFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Scenario = "random kills";

    private static readonly string[] Targets =
        [ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results, ResourceNames.Intake, ResourceNames.Sandbox, ResourceNames.Cache];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    public static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("BATCHASPIRE_SOAK_ITERATIONS"), out var n) && n > 0 ? n : 1;

    [Fact]
    public async Task JobsSurviveServicesKilledAtRandomMoments()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("BATCHASPIRE_SOAK_SEED"), out var s) ? s : Random.Shared.Next();
        output.WriteLine($"seed {seed}, {Iterations} round(s)");
        var random = new Random(seed);
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 2 }, Ct);

        for (var round = 0; round < Iterations; round++)
        {
            // Two jobs at once, of different sizes, so kills find work at every stage.
            var jobs = new[]
            {
                await Jobs.SubmitAsync(fixture, "chaos", 2000 + random.Next(1200), $"chaos-{round}-a", Ct),
                await Jobs.SubmitAsync(fixture, "chaos", 300 + random.Next(500), $"chaos-{round}-b", Ct),
            };
            for (var kill = 0; kill < 3; kill++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(500, 4000)), Ct);
                var target = Targets[random.Next(Targets.Length)];
                var replica = random.Next(fixture.Control.InstancesOf(target).Count);
                var killed = await fixture.Control.KillAsync(target, replica, Ct);
                output.WriteLine($"round {round}: killed {killed} at {DateTime.UtcNow:HH:mm:ss.fff}");
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, 3000)), Ct);
                await fixture.Control.StartAsync(killed, Ct);
                fixture.Ledger.Note(Scenario, kills: 1, restarts: 1);
            }
            foreach (var job in jobs)
            {
                var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(5), Ct);
                output.WriteLine((await JobInvariant.CheckAsync(fixture, job, end, Scenario, Ct)).ToString());
            }
        }
    }
}
