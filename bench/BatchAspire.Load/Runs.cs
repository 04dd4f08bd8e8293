using System.Diagnostics;

namespace BatchAspire.Load;

internal sealed record RunResult(string Name, TimeSpan Elapsed, int Answered, int Succeeded, int ProviderBatches)
{
    /// <summary>When each client step ended (unix ms), for the stage timeline; null for the baseline.</summary>
    public ClientMarks? Marks { get; init; }
}

/// <summary>The client's view of one BatchAspire job: when it started and when each of its steps returned (unix ms).</summary>
internal sealed record ClientMarks(string BatchId, long StartMs, long UploadedMs, long CreatedMs, long SeenTerminalMs, long DownloadedMs);

/// <summary>
/// The baseline: the best hand-written client driving the Sandbox directly. The file is split into parts of
/// <see cref="LoadOptions.LinesPerFile"/> lines, all uploaded and created at once, each polled and downloaded as
/// soon as it is done, so the Sandbox runs every part in parallel as BatchAspire's chunks can be.
/// </summary>
internal static class ParallelClient
{
    public static async Task<RunResult> RunAsync(Uri sandbox, RequestFile input, LoadOptions options)
    {
        using var timeout = new CancellationTokenSource(options.Bound);
        using var client = new BatchApiClient(sandbox, "sandbox");
        var clock = Stopwatch.StartNew();
        var parts = (input.Lines + options.LinesPerFile - 1) / options.LinesPerFile;
        var results = await Task.WhenAll(Enumerable.Range(0, parts)
            .Select(part => RunPartAsync(client, input, part * options.LinesPerFile, options.LinesPerFile, timeout.Token)));
        return new RunResult("hand-written parallel client on the Sandbox (baseline)", clock.Elapsed,
            results.Sum(r => r.Succeeded + r.Failed), results.Sum(r => r.Succeeded), parts);
    }

    private static async Task<(int Succeeded, int Failed)> RunPartAsync(
        BatchApiClient client, RequestFile input, int first, int linesPerFile, CancellationToken ct)
    {
        string fileId;
        await using (var part = input.OpenLines(first, Math.Min(linesPerFile, input.Lines - first)))
        {
            fileId = await client.UploadAsync(part, $"part-{first / linesPerFile}.jsonl", ct);
        }
        var batch = await client.WaitAsync(await client.CreateBatchAsync(fileId, ct), ct);
        return await client.CountResultsAsync(batch, ct);
    }
}

/// <summary>BatchAspire: the whole file through the intake as one job, then the same status loop and download as the baseline's.</summary>
internal static class ThroughIntake
{
    public static async Task<RunResult> RunAsync(Uri intake, RequestFile input, LoadOptions options)
    {
        using var timeout = new CancellationTokenSource(options.Bound);
        using var client = new BatchApiClient(intake, "ba-dev-key");
        var clock = Stopwatch.StartNew();
        var startMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await using var content = input.OpenLines(0, input.Lines);
        var fileId = await client.UploadAsync(content, "load.jsonl", timeout.Token);
        var uploadedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batchId = await client.CreateBatchAsync(fileId, timeout.Token);
        var createdMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = await client.WaitAsync(batchId, timeout.Token);
        var seenMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var (ok, failed) = await client.CountResultsAsync(batch, timeout.Token);
        var elapsed = clock.Elapsed;
        var chunks = (input.Lines + options.LinesPerFile - 1) / options.LinesPerFile;
        return new RunResult("BatchAspire (intake → submitter → pollers → results)", elapsed, ok + failed, ok, chunks)
        {
            Marks = new ClientMarks(batchId, startMs, uploadedMs, createdMs, seenMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        };
    }
}
