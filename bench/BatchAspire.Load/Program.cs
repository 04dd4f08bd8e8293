using BatchAspire.Load;

// End to end, many requests (issue 8, benchmark 1): N distinct small chat requests through intake,
// submitter, pollers and results with the Sandbox's local executor and no injected latency, against a
// baseline measured in the same run on the same Sandbox: the best hand-written client, the file split into
// parts of LinesPerFile lines, all uploaded and created at once, polled every 0.25 s (as BatchAspire's client
// is) and downloaded as each is done. The goal: BatchAspire takes at most 1.2 times as long.
var options = LoadOptions.Parse(args);
Console.WriteLine($"BatchAspire end-to-end benchmark: {options.Requests:N0} requests, {options.LinesPerFile:N0} lines per provider batch{(options.Short ? " (short mode)" : "")}");
if (options.AppHostSettings.Count > 0) Console.WriteLine($"AppHost settings: {string.Join(' ', options.AppHostSettings)}");

await using var system = await RunningSystem.StartAsync(options);
var input = await RequestFile.CreateAsync(options.Requests);
try
{
    // Both sides are measured warm, as a service that has been up for a while runs: one small job through each
    // first (not timed), so neither pays for the JIT compiling its hot paths inside the measurement.
    var warmUp = await RequestFile.CreateAsync(options.WarmUpRequests);
    try
    {
        var warmOptions = options with { Requests = options.WarmUpRequests };
        var warmBaseline = options.SkipBaseline ? null : await ParallelClient.RunAsync(system.SandboxBaseUrl, warmUp, warmOptions);
        var warmBatchAspire = await ThroughIntake.RunAsync(system.IntakeBaseUrl, warmUp, warmOptions);
        if (warmBatchAspire.Answered != warmUp.Lines || (warmBaseline is not null && warmBaseline.Answered != warmUp.Lines))
            throw new InvalidOperationException("The warm-up job did not answer every request.");
        Console.WriteLine($"Warm-up: {warmUp.Lines:N0} requests through each side (not timed).");
    }
    finally
    {
        File.Delete(warmUp.Path);
    }

    var atStart = system.Census();
    var baseline = options.SkipBaseline
        ? new RunResult("baseline skipped (--no-baseline)", TimeSpan.FromSeconds(1), options.Requests, options.Requests, 0)
        : await ParallelClient.RunAsync(system.SandboxBaseUrl, input, options);
    var afterBaseline = system.Census();
    await Timeline.ResetRedisStatsAsync(system.CacheConnection);
    var redisBefore = await Timeline.RedisUsedMemoryAsync(system.CacheConnection);
    var batchAspire = await ThroughIntake.RunAsync(system.IntakeBaseUrl, input, options);
    var redisAfter = await Timeline.RedisUsedMemoryAsync(system.CacheConnection);
    var afterBatchAspire = system.Census();

    Report.Print(options, baseline, batchAspire, atStart, afterBaseline, afterBatchAspire);
    Report.PrintRedisMemory(options.Requests, redisBefore, redisAfter);
    using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
    await Timeline.PrintAsync(system.CacheConnection, system.SandboxBaseUrl, batchAspire.Marks!, timeout.Token);
    await Timeline.PrintRedisAsync(system.CacheConnection);
    // A missed goal is a figure, not an error: only requests left unanswered fail the run.
    return batchAspire.Answered == options.Requests && baseline.Answered == options.Requests ? 0 : 1;
}
finally
{
    File.Delete(input.Path);
}
