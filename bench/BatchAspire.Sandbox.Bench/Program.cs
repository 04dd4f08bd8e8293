using System.Diagnostics;
using System.Globalization;
using BatchAspire.Bench;
using BatchAspire.Sandbox.Bench;

// dotnet run -c Release --project bench/BatchAspire.Sandbox.Bench -- [--short]
var quick = args.Contains("--short");
var sizes = quick
    ? new BenchSizes(SmallFileBytes: 2_000_000, LargeFileBytes: 20_000_000, LargeLines: 5_000, ShortLines: 5_000)
    : new BenchSizes(SmallFileBytes: 20_000_000, LargeFileBytes: 200_000_000, LargeLines: 50_000, ShortLines: 50_000);
var work = Directory.CreateTempSubdirectory("batchaspire-sandbox-bench-");
try
{
    Console.WriteLine($"BatchAspire Sandbox bench ({(quick ? "short" : "full")}), local executor, no injected latency, {Environment.ProcessorCount} cores");
    var large = InputFiles.Write(Path.Combine(work.FullName, "large.jsonl"), sizes.LargeLines, sizes.LargeFileBytes);
    var smallLines = (int)(sizes.LargeLines * sizes.SmallFileBytes / sizes.LargeFileBytes);
    var small = InputFiles.Write(Path.Combine(work.FullName, "small.jsonl"), smallLines, sizes.SmallFileBytes);
    var chat = InputFiles.Write(Path.Combine(work.FullName, "chat.jsonl"), sizes.ShortLines, bytes: null);
    // Every measured run follows warm-up batches of both shapes in the same process: a long-running
    // server's steady state (tiered JIT with dynamic PGO done) is measured, not its first seconds.
    var warmUpLarge = InputFiles.Write(Path.Combine(work.FullName, "warm-up-large.jsonl"), quick ? 500 : 3_000, (quick ? 500 : 3_000) * 4_000L);
    var warmUpSmall = InputFiles.Write(Path.Combine(work.FullName, "warm-up-small.jsonl"), quick ? 2_000 : 20_000, bytes: null);

    var copy = Baseline.Copy(large.Path, Path.Combine(work.FullName, "copy.jsonl"));

    RunResult smallRun, largeRun, chatRun;
    await using (var sandbox = await SandboxProcess.StartAsync(Path.Combine(work.FullName, "data-small")))
    {
        await sandbox.WarmUpAsync(quick ? 1 : 2, warmUpLarge, warmUpSmall);
        smallRun = await sandbox.RunAsync(small);
    }
    await using (var sandbox = await SandboxProcess.StartAsync(Path.Combine(work.FullName, "data-large")))
    {
        await sandbox.WarmUpAsync(quick ? 1 : 2, warmUpLarge, warmUpSmall);
        largeRun = await sandbox.RunAsync(large);
    }
    await using (var sandbox = await SandboxProcess.StartAsync(Path.Combine(work.FullName, "data-chat")))
    {
        await sandbox.WarmUpAsync(quick ? 1 : 2, warmUpLarge, warmUpSmall);
        chatRun = await sandbox.RunAsync(chat);
    }

    string F(double value, string format = "N1") => value.ToString(format, CultureInfo.InvariantCulture);
    double Mb(long bytes) => bytes / 1_000_000.0;
    var copyLinesPerSecond = large.Lines / copy.TotalSeconds;
    var copyMbPerSecond = Mb(large.Bytes) / copy.TotalSeconds;
    Console.WriteLine();
    Console.WriteLine($"Input: {F(Mb(large.Bytes))} MB, {large.Lines:N0} lines ({large.Bytes / large.Lines:N0} B a line)");
    Console.WriteLine($"{"",-34}{"sandbox",16}{"baseline: file copy",24}{"ratio",9}");
    Console.WriteLine($"{"upload (POST /v1/files)",-34}{F(Mb(large.Bytes) / largeRun.Upload.TotalSeconds) + " MB/s",16}{F(copyMbPerSecond) + " MB/s",24}{F(Mb(large.Bytes) / largeRun.Upload.TotalSeconds / copyMbPerSecond, "N2"),9}");
    Console.WriteLine($"{"processing (create → completed)",-34}{F(large.Lines / largeRun.Processing.TotalSeconds, "N0") + " lines/s",16}{F(copyLinesPerSecond, "N0") + " lines/s",24}{F(large.Lines / largeRun.Processing.TotalSeconds / copyLinesPerSecond, "N3"),9}");
    Console.WriteLine($"{"  CPU time of the Sandbox",-34}{F(largeRun.ProcessingCpu.TotalSeconds, "N2") + " s",16}{"",24}{"",9}  ({F(large.Lines / largeRun.ProcessingCpu.TotalSeconds, "N0")} lines per CPU-second)");
    Console.WriteLine($"{"download output (GET content)",-34}{F(Mb(largeRun.OutputBytes) / largeRun.Download.TotalSeconds) + " MB/s",16}{F(copyMbPerSecond) + " MB/s",24}{F(Mb(largeRun.OutputBytes) / largeRun.Download.TotalSeconds / copyMbPerSecond, "N2"),9}");
    Console.WriteLine();
    Console.WriteLine($"Small chat requests: {chat.Lines:N0} lines of {chat.Bytes / chat.Lines:N0} B: {F(chat.Lines / chatRun.Processing.TotalSeconds, "N0")} lines/s (create → completed), " +
        $"{F(chat.Lines / chatRun.ProcessingCpu.TotalSeconds, "N0")} lines per CPU-second of the Sandbox");
    Console.WriteLine($"Machine load average while measuring: {File.ReadAllText("/proc/loadavg").Split(' ')[0]} (other processes share the cores; wall-clock rates fall with it)");
    Console.WriteLine();
    Console.WriteLine("Peak memory of the Sandbox process (VmHWM over the warm-up, then upload, process, download):");
    Console.WriteLine($"  {F(Mb(small.Bytes), "N0")} MB file: {F(smallRun.PeakRssBytes / 1048576.0)} MiB");
    Console.WriteLine($"  {F(Mb(large.Bytes), "N0")} MB file: {F(largeRun.PeakRssBytes / 1048576.0)} MiB  (x{F((double)largeRun.PeakRssBytes / smallRun.PeakRssBytes, "N2")} for a x{F((double)large.Bytes / small.Bytes, "N0")} larger file)");
    Console.WriteLine();
    var uploadRate = Mb(large.Bytes) / largeRun.Upload.TotalSeconds;
    var linesRate = large.Lines / largeRun.Processing.TotalSeconds;
    var sizeLabel = $"{F(Mb(large.Bytes), "N0")} MB, {large.Lines:N0} lines";
    BenchFigure.Print("sandbox", $"{sizeLabel}: upload", $"{F(uploadRate)} MB/s", $"{F(copyMbPerSecond)} MB/s (file copy)", uploadRate / copyMbPerSecond, "-", null);
    BenchFigure.Print("sandbox", $"{sizeLabel}: processing, local executor", $"{F(linesRate, "N0")} lines/s",
        $"{F(copyLinesPerSecond, "N0")} lines/s (file copy)", linesRate / copyLinesPerSecond, "-", null);
    var growth = (double)largeRun.PeakRssBytes / smallRun.PeakRssBytes;
    BenchFigure.Print("sandbox", $"peak memory, {F(Mb(large.Bytes), "N0")} MB vs {F(Mb(small.Bytes), "N0")} MB file",
        $"{F(largeRun.PeakRssBytes / 1048576.0)} MiB", $"{F(smallRun.PeakRssBytes / 1048576.0)} MiB", growth, "flat (< 1.50)", growth < 1.5);
}
finally
{
    work.Delete(recursive: true);
}

internal sealed record BenchSizes(long SmallFileBytes, long LargeFileBytes, int LargeLines, int ShortLines);

internal static class Baseline
{
    /// <summary>The same bytes written to disk by a plain copy: the floor no file-handling server can beat.</summary>
    public static TimeSpan Copy(string source, string destination)
    {
        var watch = Stopwatch.StartNew();
        File.Copy(source, destination, overwrite: true);
        using (var stream = new FileStream(destination, FileMode.Open, FileAccess.ReadWrite)) stream.Flush(flushToDisk: false);
        watch.Stop();
        File.Delete(destination);
        return watch.Elapsed;
    }
}
