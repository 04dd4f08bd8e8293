using System.Globalization;
using BatchAspire.Bench;

namespace BatchAspire.Load;

internal static class Report
{
    private const double MemoryGoalMegabytes = 256;
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
        var underBound = options.Short || batchAspire.Elapsed < TimeSpan.FromMinutes(2);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"BatchAspire / baseline time: {ratio:F2} (goal < 1.00{(options.Short ? "" : ", and under 120 s in all")}): {(ratio < 1 && underBound ? "met" : "not met")}"));
        BenchFigure.Print("1. end to end", $"{options.Requests:N0} chat requests, wall-clock time",
            F($"{batchAspire.Elapsed.TotalSeconds:F1} s"), F($"{baseline.Elapsed.TotalSeconds:F1} s (seed client loop)"), ratio,
            options.Short ? "< 1.00" : "< 1.00 and < 120 s", ratio < 1 && underBound);
        Console.WriteLine("Per process: peak memory (VmHWM, MB; goal < 256 for each service) and CPU seconds used in each run:");
        Console.WriteLine($"  {"process",-10} {"peak MB",8} {"",5}  {"CPU s baseline",14}  {"CPU s BatchAspire",17}");
        foreach (var (name, usage) in afterBatchAspire.OrderBy(p => Array.IndexOf(Services, p.Key) is var i && i < 0 ? 99 : i))
        {
            var isService = Services.Contains(name);
            var verdict = !isService ? "" : usage.PeakMegabytes < MemoryGoalMegabytes ? "ok" : "over";
            var baselineCpu = afterBaseline.GetValueOrDefault(name).CpuSeconds - atStart.GetValueOrDefault(name).CpuSeconds;
            var batchAspireCpu = usage.CpuSeconds - afterBaseline.GetValueOrDefault(name).CpuSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-10} {usage.PeakMegabytes,8:F0} {verdict,5}  {baselineCpu,14:F1}  {batchAspireCpu,17:F1}"));
        }
        var largest = afterBatchAspire.Where(p => Services.Contains(p.Key)).MaxBy(p => p.Value.PeakMegabytes);
        BenchFigure.Print("1. end to end", "peak memory of the largest service", F($"{largest.Value.PeakMegabytes:F0} MB ({largest.Key})"),
            "-", null, $"< {MemoryGoalMegabytes:F0} MB each", afterBatchAspire.Where(p => Services.Contains(p.Key)).All(p => p.Value.PeakMegabytes < MemoryGoalMegabytes));
        var totalBaseline = afterBaseline.Sum(p => p.Value.CpuSeconds) - atStart.Sum(p => p.Value.CpuSeconds);
        var totalBatchAspire = afterBatchAspire.Sum(p => p.Value.CpuSeconds) - afterBaseline.Sum(p => p.Value.CpuSeconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {"all",-10} {"",8} {"",5}  {totalBaseline,14:F1}  {totalBatchAspire,17:F1}   (the benchmark's own client is not counted)"));
    }

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
