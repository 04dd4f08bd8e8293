// Benchmark 4 (issue 8): write a job's 1,000,000-line output in input order from ba:{jobId}:results, against
// baselines measured in the same run that write the same bytes through the same file writer from a sequential
// read of Redis. Usage: dotnet run -c Release --project bench/BatchAspire.Assembly.Bench -- [--short] [--lines N] [--runs N]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using BatchAspire.Bench;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;
using BatchAspire.Testing;
using StackExchange.Redis;

var shortMode = args.Contains("--short");
var lines = ArgValue("--lines") ?? (shortMode ? 100_000 : 1_000_000);
var runs = ArgValue("--runs") ?? 3;
const int FailureEvery = 100;   // 1% of requests end in the error file
var pageSize = ArgValue("--page") ?? new JobAssembler(null!, null!, null!, null!).BatchSize;
var window = ArgValue("--window") ?? new JobAssembler(null!, null!, null!, null!).Window;

Console.WriteLine($"Result assembly benchmark: {lines:N0} result lines, {runs} run(s) each, 1 in {FailureEvery} a failure.");
await using var redis = await LocalRedisServer.StartAsync();
var db = redis.Multiplexer.GetDatabase();
using var blobs = new TempBlobStore();
var deletions = new BlobDeletions(redis.Multiplexer, blobs.Store, TimeProvider.System);
var files = new RedisFileStore(redis.Multiplexer, blobs.Store, TimeProvider.System);
var assembler = new JobAssembler(redis.Multiplexer, files, blobs.Store, deletions) { BatchSize = pageSize, Window = window };
var jobId = JobIds.New();
var runsJobId = JobIds.New();
const int LinesPerChunk = 50_000;
const string tenant = "bench";
RedisKey sequential = $"bench:{{{jobId}}}:sequential";

var fill = Stopwatch.StartNew();
long bytes = await FillAsync();
Console.WriteLine($"Stored {lines:N0} results ({bytes / 1048576.0:N1} MiB) in the results hash and, for the baseline, a list: {fill.Elapsed.TotalSeconds:N1} s");

var assembly = new List<Measurement>();
var runsAssembly = new List<Measurement>();
var listBaseline = new List<Measurement>();
var scanBaseline = new List<Measurement>();
for (var run = 0; run < runs; run++)
{
    // Alternate the order so neither side always runs on a warmer (or more fragmented) Redis.
    if (run % 2 == 0)
    {
        assembly.Add(await MeasureAsync(AssembleAsync));
        listBaseline.Add(await MeasureAsync(ListBaselineAsync));
    }
    else
    {
        listBaseline.Add(await MeasureAsync(ListBaselineAsync));
        assembly.Add(await MeasureAsync(AssembleAsync));
    }
    scanBaseline.Add(await MeasureAsync(ScanBaselineAsync));
    // The runs are moved into the files by the commit: written again (not timed) before each measurement.
    await WriteRunsAsync();
    runsAssembly.Add(await MeasureAsync(AssembleFromRunsAsync));
}

var a = Median(assembly);
var r = Median(runsAssembly);
var l = Median(listBaseline);
var s = Median(scanBaseline);
Console.WriteLine();
Console.WriteLine("| method | time (median) | lines/s | MB/s | allocated | ratio to list baseline |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
Row("assembly from result runs (provider answered in order): segments moved", r, l);
Row("assembly from the results hash (provider answered out of order): HMGET by line index", a, l);
Row("baseline: LRANGE of a list in order (sequential read)", l, l);
Row("baseline: HSCAN of the results hash (sequential, unordered)", s, l);
Console.WriteLine();
// The goal is judged on the slower path: every line from the results hash.
var ratio = a.Seconds / l.Seconds;
Console.WriteLine($"Goal: assembly within 2x of the sequential-read baseline. Ratio {ratio:N2} (results hash; result runs {r.Seconds / l.Seconds:N2}) -> {(ratio <= 2 ? "met" : "NOT met")}.");
Console.WriteLine($"Ratio to the HSCAN baseline: {a.Seconds / s.Seconds:N2}.");
BenchFigure.Print("4. result assembly", $"{lines:N0}-line output in input order, from the results hash", $"{a.Seconds:F2} s",
    $"{l.Seconds:F2} s (sequential LRANGE of the same bytes)", ratio, "<= 2.00", ratio <= 2);
BenchFigure.Print("4. result assembly", $"{lines:N0}-line output in input order, from result runs", $"{r.Seconds:F2} s",
    $"{l.Seconds:F2} s (sequential LRANGE of the same bytes)", r.Seconds / l.Seconds, "<= 2.00", r.Seconds / l.Seconds <= 2);
// A missed goal is a figure, not an error (machines here are shared and noisy); an error throws.
return 0;

async Task<long> FillAsync()
{
    long total = 0;
    var pending = new List<Task>();
    for (var first = 0; first < lines; first += pageSize)
    {
        var count = Math.Min(pageSize, lines - first);
        var entries = new HashEntry[count];
        var values = new RedisValue[count];
        for (var i = 0; i < count; i++)
        {
            var line = ResultLineFor(first + i);
            total += line.Length + 1;
            entries[i] = new HashEntry(first + i, line);
            values[i] = line;
        }
        pending.Add(db.HashSetAsync(RedisKeys.JobResults(jobId), entries));
        pending.Add(db.ListRightPushAsync(sequential, values));
        if (pending.Count >= 16)
        {
            await Task.WhenAll(pending);
            pending.Clear();
        }
    }
    var bitmap = new byte[(lines + 7) / 8];
    for (var i = 0; i < lines; i += FailureEvery) bitmap[i >> 3] |= (byte)(0x80 >> (i & 7));
    pending.Add(db.StringSetAsync(RedisKeys.JobFailures(jobId), bitmap));
    await Task.WhenAll(pending);
    return total;
}

async Task<(string?, string?)> AssembleAsync() => await AssembleAndCommitAsync(jobId);

async Task<(string?, string?)> AssembleFromRunsAsync() => await AssembleAndCommitAsync(runsJobId);

async Task<(string?, string?)> AssembleAndCommitAsync(string job)
{
    // A job about to end (the commit refuses a job that already ended; each measurement ends it again).
    await db.HashSetAsync(RedisKeys.Job(job), [new(JobFields.Status, JobStatus.InProgress), new(JobFields.Tenant, tenant), new(JobFields.RequestTotal, lines)]);
    var store = new ResultStore(redis.Multiplexer, blobs.Store, deletions);
    await using var assembled = await assembler.PrepareAsync(new AssemblyRequest(job, tenant, lines, "file-none", null, null), CancellationToken.None);
    var commit = await store.CommitAsync(job, new JobCompletion(JobStatus.Completed, default, null), assembled);
    if (!commit.Won) throw new InvalidOperationException($"Commit of {job} lost ({commit.Status}).");
    return (commit.OutputFileId, commit.ErrorFileId);
}

// The results as the results service writes them when the provider answers in order: per 50,000-line chunk, one run
// of successes and one of failures, recorded with the chunk.
async Task WriteRunsAsync()
{
    var store = new ResultStore(redis.Multiplexer, blobs.Store, deletions);
    await db.KeyDeleteAsync(RedisKeys.JobChunks(runsJobId));
    for (var first = 0; first < lines; first += LinesPerChunk)
    {
        var chunkId = ChunkIds.Create(runsJobId, first / LinesPerChunk);
        await db.KeyDeleteAsync(RedisKeys.Chunk(chunkId));
        await db.ListRightPushAsync(RedisKeys.JobChunks(runsJobId), chunkId);
        await db.HashSetAsync(RedisKeys.Chunk(chunkId), [new(ChunkFields.Kind, ChunkKinds.Range), new(ChunkFields.First, first)]);
        await using var output = store.CreateRunWriter(runsJobId, $"{first / LinesPerChunk}.o.bench", RunKind.Output);
        await using var errors = store.CreateRunWriter(runsJobId, $"{first / LinesPerChunk}.e.bench", RunKind.Error);
        for (var i = first; i < Math.Min(first + LinesPerChunk, lines); i++)
            await (i % FailureEvery == 0 ? errors : output).TryAppendAsync(i, ResultLineFor(i));
        await output.CompleteAsync();
        await errors.CompleteAsync();
        await store.CompleteChunkAsync(chunkId, default, SuccessorKind.None, [], 1, TimeSpan.Zero, output.Run, errors.Run);
    }
}

// The same bytes, in the same order, to the same writers, read as one sequential pass over a list.
async Task<(string?, string?)> ListBaselineAsync()
{
    await using var output = files.CreateWriter(tenant, "baseline_output.jsonl", FilePurposes.BatchOutput, null);
    await using var errors = files.CreateWriter(tenant, "baseline_error.jsonl", FilePurposes.BatchOutput, null);
    var inFlight = new Queue<(long First, Task<RedisValue[]> Values)>();
    long next = 0;
    void Fill()
    {
        while (inFlight.Count < window && next < lines)
        {
            inFlight.Enqueue((next, db.ListRangeAsync(sequential, next, Math.Min(next + pageSize, lines) - 1)));
            next += pageSize;
        }
    }
    Fill();
    while (inFlight.Count > 0)
    {
        var (first, task) = inFlight.Dequeue();
        var values = await task;
        Fill();
        for (var i = 0; i < values.Length; i++)
        {
            if ((first + i) % FailureEvery == 0) await errors.WriteLineAsync(values[i]);
            else await output.WriteLineAsync(values[i]);
        }
    }
    return ((await output.CommitAsync()).Id, (await errors.CommitAsync()).Id);
}

// The brief's other baseline: one sequential HSCAN of the results hash (unordered; a cursor cannot be pipelined).
async Task<(string?, string?)> ScanBaselineAsync()
{
    await using var output = files.CreateWriter(tenant, "scan_output.jsonl", FilePurposes.BatchOutput, null);
    await using var errors = files.CreateWriter(tenant, "scan_error.jsonl", FilePurposes.BatchOutput, null);
    await foreach (var entry in db.HashScanAsync(RedisKeys.JobResults(jobId), pageSize: pageSize))
    {
        if ((long)entry.Name % FailureEvery == 0) await errors.WriteLineAsync(entry.Value);
        else await output.WriteLineAsync(entry.Value);
    }
    return ((await output.CommitAsync()).Id, (await errors.CommitAsync()).Id);
}

async Task<Measurement> MeasureAsync(Func<Task<(string? Output, string? Error)>> body)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    var allocated = GC.GetTotalAllocatedBytes(precise: true);
    var clock = Stopwatch.StartNew();
    var (output, error) = await body();
    var seconds = clock.Elapsed.TotalSeconds;
    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
    var written = 0L;
    foreach (var id in new[] { output, error })
    {
        if (id is null) continue;
        written += (await files.GetAsync(id))!.Bytes;
        await files.DeleteAsync(tenant, id);
    }
    if (written != bytes) throw new InvalidOperationException($"Wrote {written} bytes, expected {bytes}.");
    return new Measurement(seconds, allocated);
}

void Row(string name, Measurement m, Measurement baseline) =>
    Console.WriteLine($"| {name} | {m.Seconds:N2} s | {lines / m.Seconds:N0} | {bytes / 1048576.0 / m.Seconds:N0} | {m.Allocated / 1048576.0:N0} MiB | {m.Seconds / baseline.Seconds:N2} |");

static Measurement Median(List<Measurement> list) => list.OrderBy(m => m.Seconds).ElementAt(list.Count / 2);

int? ArgValue(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : null;
}

// A chat completion result line like the Sandbox writes (about 600 bytes), different for every request.
static byte[] ResultLineFor(int i) => Encoding.UTF8.GetBytes(
    $"{{\"id\":\"batch_req_{i:x16}\",\"custom_id\":\"req-{i}\",\"response\":{{\"status_code\":200,\"request_id\":\"req_{i:x24}\"," +
    $"\"body\":{{\"id\":\"chatcmpl-{i:x20}\",\"object\":\"chat.completion\",\"created\":1760000000,\"model\":\"gpt-5-nano-2025-08-07\"," +
    $"\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\"The sentiment of review {i} is positive: the reviewer praises the value.\",\"refusal\":null}},\"finish_reason\":\"stop\"}}]," +
    $"\"usage\":{{\"prompt_tokens\":{20 + i % 17},\"completion_tokens\":{12 + i % 5},\"total_tokens\":{32 + i % 17 + i % 5}," +
    "\"prompt_tokens_details\":{\"cached_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0}}}},\"error\":null}");

internal readonly record struct Measurement(double Seconds, long Allocated);
