using System.Globalization;
using BatchAspire.Bench;

namespace BatchAspire.Load;

internal static class Report
{
    private const double MemoryGoalMegabytes = 256;
    private const double TimeGoal = 1.2;
    private const int RedisBytesPerRequestGoal = 80;
    private static readonly string[] Services = ["intake", "submitter", "poller", "results", "sandbox"];

    public static void Print(LoadOptions options, RunResult baseline, RunResult batchAspire,
        IReadOnlyDictionary<string, ProcessUsage> atStart, IReadOnlyDictionary<string, ProcessUsage> afterBaseline,
        IReadOnlyDictionary<string, ProcessUsage> afterBatchAspire)
    {
        var ratio = batchAspire.Elapsed.TotalSeconds / baseline.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"| {"run",-55} | {"seconds",8} | {"requests/s",10} | {"answered",9} | {"batches",7} |");
        Console.WriteLine($"|{new string('-', 57)}|{new string('-', 10)}|{new string('-', 12)}|{new string('-', 11)}|{new string('-', 9)}|");
        foreach (var run in new[] { baseline, batchAspire })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {run.Name,-55} | {run.Elapsed.TotalSeconds,8:F1} | {run.Answered / run.Elapsed.TotalSeconds,10:F0} | {run.Answered,9} | {run.ProviderBatches,7} |"));
        }
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"BatchAspire / baseline time: {ratio:F2} (goal ≤ {TimeGoal:F2}): {(ratio <= TimeGoal ? "met" : "not met")}"));
        BenchFigure.Print("1. end to end", $"{options.Requests:N0} chat requests, wall-clock time",
            F($"{batchAspire.Elapsed.TotalSeconds:F1} s"), F($"{baseline.Elapsed.TotalSeconds:F1} s (hand-written parallel client)"), ratio,
            F($"≤ {TimeGoal:F2}"), ratio <= TimeGoal);

        Console.WriteLine("Per process: peak memory (VmHWM, MB; goal < 256 for each service) and CPU seconds used in each run, and per million requests in BatchAspire's:");
        Console.WriteLine($"  {"process",-10} {"peak MB",8} {"",5}  {"peak MB by the baseline's end",29}  {"CPU s baseline",14}  {"CPU s BatchAspire",17}  {"CPU s / M requests",18}");
        foreach (var (name, usage) in afterBatchAspire.OrderBy(p => Array.IndexOf(Services, p.Key) is var i && i < 0 ? 99 : i))
        {
            var isService = Services.Contains(name);
            var verdict = !isService ? "" : usage.PeakMegabytes < MemoryGoalMegabytes ? "ok" : "over";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-10} {usage.PeakMegabytes,8:F0} {verdict,5}  {afterBaseline.GetValueOrDefault(name).PeakMegabytes,29:F0}  {BaselineCpu(name),14:F1}  {BatchAspireCpu(name),17:F1}  {PerMillion(BatchAspireCpu(name)),18:F1}"));
        }
        var largest = afterBatchAspire.Where(p => Services.Contains(p.Key)).MaxBy(p => p.Value.PeakMegabytes);
        BenchFigure.Print("1. end to end", "peak memory of the largest service", F($"{largest.Value.PeakMegabytes:F0} MB ({largest.Key})"),
            "-", null, $"< {MemoryGoalMegabytes:F0} MB each", afterBatchAspire.Where(p => Services.Contains(p.Key)).All(p => p.Value.PeakMegabytes < MemoryGoalMegabytes));
        var totalBaseline = afterBaseline.Sum(p => p.Value.CpuSeconds) - atStart.Sum(p => p.Value.CpuSeconds);
        var totalBatchAspire = afterBatchAspire.Sum(p => p.Value.CpuSeconds) - afterBaseline.Sum(p => p.Value.CpuSeconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"all",-10} {"",8} {"",5}  {"",29}  {totalBaseline,14:F1}  {totalBatchAspire,17:F1}  {PerMillion(totalBatchAspire),18:F1}   (the benchmark's own client is not counted)"));
        // What BatchAspire's own services cost, as context (no goal); Redis and RabbitMQ have their rows above.
        BenchFigure.Print("1. end to end", "CPU seconds per million requests, the five services together",
            F($"{PerMillion(Services.Sum(BatchAspireCpu)):F1} s"), F($"{PerMillion(totalBaseline):F1} s (all processes, parallel client)"), null, "-", null);

        double PerMillion(double cpuSeconds) => cpuSeconds / options.Requests * 1e6;
        double BaselineCpu(string name) => afterBaseline.GetValueOrDefault(name).CpuSeconds - atStart.GetValueOrDefault(name).CpuSeconds;
        double BatchAspireCpu(string name) => afterBatchAspire.GetValueOrDefault(name).CpuSeconds - afterBaseline.GetValueOrDefault(name).CpuSeconds;
    }

    /// <summary>
    /// What a completed (and downloaded) job leaves in Redis, per request: job and chunk metadata until their TTLs
    /// end. The payload lives in the blob store, so this stays small however large the job was.
    /// </summary>
    public static void PrintRedisMemory(int requests, long usedMemoryBefore, long usedMemoryAfter)
    {
        var perRequest = (usedMemoryAfter - usedMemoryBefore) / (double)requests;
        var met = perRequest <= RedisBytesPerRequestGoal;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Redis used_memory: {usedMemoryBefore:N0} B before the BatchAspire job, {usedMemoryAfter:N0} B once it was completed and downloaded: {perRequest:F1} B per request (goal ≤ {RedisBytesPerRequestGoal} B): {(met ? "met" : "not met")}"));
        BenchFigure.Print("1. end to end", "Redis memory a completed job leaves, per request", F($"{perRequest:F1} B"),
            "-", null, $"≤ {RedisBytesPerRequestGoal} B", met);
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
