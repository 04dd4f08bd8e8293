using System.Diagnostics;
using System.Text.Json;

namespace BatchAspire.Load;

internal sealed record RunResult(string Name, TimeSpan Elapsed, int Answered, int Succeeded, int ProviderBatches)
{
    /// <summary>When each client step ended (unix ms), for the stage timeline; null for the baseline.</summary>
    public ClientMarks? Marks { get; init; }
}

/// <summary>The client's view of one BatchAspire job: when it started and when each of its steps returned (unix ms).</summary>
internal sealed record ClientMarks(string BatchId, long StartMs, long UploadedMs, long CreatedMs, long SeenTerminalMs, long DownloadedMs);

/// <summary>The baseline: a user's own loop over the Sandbox, one file of ≤ 50,000 lines after another.</summary>
internal static class SeedClientLoop
{
    public static async Task<RunResult> RunAsync(Uri sandbox, RequestFile input, LoadOptions options)
    {
        using var timeout = new CancellationTokenSource(options.Bound);
        using var client = new BatchApiClient(sandbox, "sandbox");
        var clock = Stopwatch.StartNew();
        int answered = 0, succeeded = 0, batches = 0;
        for (var first = 0; first < input.Lines; first += options.LinesPerFile)
        {
            var count = Math.Min(options.LinesPerFile, input.Lines - first);
            await using var slice = input.OpenLines(first, count);
            var fileId = await client.UploadAsync(slice, $"part-{batches}.jsonl", timeout.Token);
            var batchId = await client.CreateBatchAsync(fileId, timeout.Token);
            var batch = await client.WaitAsync(batchId, timeout.Token);
            (var ok, var failed) = await CountResultsAsync(client, batch, timeout.Token);
            answered += ok + failed;
            succeeded += ok;
            batches++;
        }
        return new RunResult("seed client loop on the Sandbox (baseline)", clock.Elapsed, answered, succeeded, batches);
    }

    internal static async Task<(int Succeeded, int Failed)> CountResultsAsync(BatchApiClient client, JsonElement batch, CancellationToken ct)
    {
        var ok = batch.GetProperty("output_file_id").ValueKind == JsonValueKind.String
            ? await client.CountLinesAsync(batch.GetProperty("output_file_id").GetString()!, ct) : 0;
        var failed = batch.GetProperty("error_file_id").ValueKind == JsonValueKind.String
            ? await client.CountLinesAsync(batch.GetProperty("error_file_id").GetString()!, ct) : 0;
        return (ok, failed);
    }
}

/// <summary>BatchAspire: the whole file through the intake as one job, then the same status loop and download.</summary>
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
        var (ok, failed) = await SeedClientLoop.CountResultsAsync(client, batch, timeout.Token);
        var elapsed = clock.Elapsed;
        var chunks = (input.Lines + options.LinesPerFile - 1) / options.LinesPerFile;
        return new RunResult("BatchAspire (intake → submitter → pollers → results)", elapsed, ok + failed, ok, chunks)
        {
            Marks = new ClientMarks(batchId, startMs, uploadedMs, createdMs, seenMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        };
    }
}
