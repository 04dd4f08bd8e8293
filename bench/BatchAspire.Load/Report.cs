using System.Globalization;

namespace BatchAspire.Load;

internal static class Report
{
    private const double MemoryGoalMegabytes = 256;

    public static void Print(LoadOptions options, RunResult baseline, RunResult batchAspire, IReadOnlyDictionary<string, double> peakMemory)
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
            $"BatchAspire / baseline time: {ratio:F2} (goal < 1.00{(options.Short ? "" : ", and under 120 s in all")})"));
        Console.WriteLine("Peak memory (VmHWM) per service, MB (goal < 256 each):");
        foreach (var (service, megabytes) in peakMemory.OrderBy(p => p.Key))
        {
            var verdict = megabytes < MemoryGoalMegabytes ? "ok" : "over";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {service,-10} {megabytes,8:F0}  {verdict}"));
        }
    }
}
