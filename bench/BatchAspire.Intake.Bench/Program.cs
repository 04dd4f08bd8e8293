using System.Diagnostics;
using System.Globalization;
using BatchAspire.Bench;
using BatchAspire.Intake.Bench;

// Two roles in one executable: the benchmark driver, and (started by it) the discard-only baseline server.
if (args is ["--discard-server", var port]) return await DiscardServer.RunAsync(int.Parse(port, CultureInfo.InvariantCulture));

var shortRun = args.Contains("--short");
var strict = args.Contains("--strict");
var sizes = shortRun ? new[] { 20L * 1000 * 1000 } : [20L * 1000 * 1000, 200L * 1000 * 1000];
const int rounds = 5;
const int lines = 50_000;

Console.WriteLine($"Intake upload benchmark ({(shortRun ? "short" : "full")}): {lines:N0}-line chat-request JSONL files, {rounds} rounds each (median), loopback.");
Console.WriteLine($"{Environment.ProcessorCount} cores; load average at start: {LoadAverage()}");
var watch = Stopwatch.StartNew();
await using var bench = await UploadBench.StartAsync();
var results = new List<(long Size, Measurement Intake, Measurement Baseline, Measurement Store)>();
foreach (var size in sizes)
{
    var file = new SyntheticJsonl(lines, size);
    var intake = new List<Measurement>();
    var baseline = new List<Measurement>();
    var store = new List<Measurement>();
    for (var round = 0; round < rounds; round++)
    {
        baseline.Add(await bench.MeasureAsync(bench.Baseline, file));
        intake.Add(await bench.MeasureAsync(bench.Intake, file));
        await bench.ForgetUploadsAsync();
        store.Add(await bench.MeasureStoreAloneAsync(file));
    }
    results.Add((file.Length, Measurement.Median(intake), Measurement.Median(baseline), Measurement.Median(store)));
}

Console.WriteLine();
Console.WriteLine("| file | intake MB/s | baseline MB/s | throughput ratio | store alone MB/s (ratio) | intake peak RSS growth | baseline peak RSS growth | intake CPU ms/MB (with redis) | baseline CPU ms/MB | store alone CPU ms/MB | client CPU ms/MB (intake run / baseline run) |");
Console.WriteLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
var met = true;
foreach (var (size, intake, baseline, store) in results)
{
    var ratio = intake.MegabytesPerSecond / baseline.MegabytesPerSecond;
    met &= ratio >= 0.5 && intake.PeakGrowthMegabytes < 64;
    Console.WriteLine(F($"| {size / 1e6:F0} MB | {intake.MegabytesPerSecond:F1} | {baseline.MegabytesPerSecond:F1} | {ratio:F2} | {store.MegabytesPerSecond:F1} ({store.MegabytesPerSecond / baseline.MegabytesPerSecond:F2}) | {intake.PeakGrowthMegabytes:F1} MB | {baseline.PeakGrowthMegabytes:F1} MB | {intake.CpuMillisecondsPerMegabyte:F1} | {baseline.CpuMillisecondsPerMegabyte:F1} | {store.CpuMillisecondsPerMegabyte:F1} | {intake.ClientCpuMillisecondsPerMegabyte:F1} / {baseline.ClientCpuMillisecondsPerMegabyte:F1} |"));
}
Console.WriteLine();
foreach (var (size, intake, baseline, store) in results)
{
    var ratio = intake.MegabytesPerSecond / baseline.MegabytesPerSecond;
    BenchFigure.Print("2. intake upload", F($"{size / 1e6:F0} MB, {lines:N0} lines: throughput"), F($"{intake.MegabytesPerSecond:F1} MB/s"),
        F($"{baseline.MegabytesPerSecond:F1} MB/s (discard-only endpoint)"), ratio, ">= 0.50", ratio >= 0.5);
    BenchFigure.Print("2. intake upload", F($"{size / 1e6:F0} MB, {lines:N0} lines: the blob store alone (the same bytes written and committed, no HTTP)"), F($"{store.MegabytesPerSecond:F1} MB/s"),
        F($"{baseline.MegabytesPerSecond:F1} MB/s (discard-only endpoint)"), store.MegabytesPerSecond / baseline.MegabytesPerSecond, "-", null);
    BenchFigure.Print("2. intake upload", F($"{size / 1e6:F0} MB, {lines:N0} lines: peak memory growth"), F($"{intake.PeakGrowthMegabytes:F1} MB"),
        F($"{baseline.PeakGrowthMegabytes:F1} MB (discard-only endpoint)"), null, "< 64 MB", intake.PeakGrowthMegabytes < 64);
}
Console.WriteLine();
Console.WriteLine($"Goal (throughput ratio >= 0.50, intake peak RSS growth < 64 MB): {(met ? "met" : "NOT met")}. Took {watch.Elapsed.TotalSeconds:F0} s; load average at end: {LoadAverage()}.");
return strict && !met ? 1 : 0;

static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

// Other work on the machine shows up in both columns, but more in the intake's (it needs more CPU per byte).
static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
