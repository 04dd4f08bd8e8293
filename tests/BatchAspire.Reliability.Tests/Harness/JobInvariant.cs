using System.Text;
using System.Text.Json;
using BatchAspire.Storage;
using StackExchange.Redis;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>What the invariant found for one job.</summary>
public sealed record InvariantReport(
    string BatchId, string Status, int Requests, int Output, int Errors, int Lost, int Doubled, int Extra,
    int ProviderBatches, int DuplicateCreates, int MaxAttempt)
{
    public override string ToString() =>
        $"{BatchId} {Status}: {Requests} requests, {Output} output + {Errors} error lines, lost {Lost}, doubled {Doubled}, extra {Extra}, " +
        $"{ProviderBatches} provider batches (max attempt {MaxAttempt}), duplicate creates {DuplicateCreates}";
}

/// <summary>
/// The promise, checked on a finished job: every custom_id of the input exactly once across the output and error
/// files, nothing else in them, request_counts equal to the files, well-formed files (JSON object lines, '\n'
/// endings, no blank lines; successes only in the output file), and at the Sandbox at most one provider batch per
/// chunk attempt (metadata batchaspire_job / batchaspire_chunk / batchaspire_attempt).
/// </summary>
public static class JobInvariant
{
    public static async Task<InvariantReport> CheckAsync(ReliabilityFixture fixture, SubmittedJob job, JsonElement batch, string scenario,
        CancellationToken ct, params string[] allowedStatuses)
    {
        var status = batch.GetProperty("status").GetString()!;
        string[] statuses = allowedStatuses.Length == 0 ? ["completed"] : allowedStatuses;
        Assert.True(statuses.Contains(status), $"{job.BatchId} ended {status}, expected {string.Join(" or ", statuses)}: {batch}");

        var output = Lines(await Jobs.DownloadAsync(fixture, job.Tenant, batch.GetProperty("output_file_id"), ct), "output");
        var errors = Lines(await Jobs.DownloadAsync(fixture, job.Tenant, batch.GetProperty("error_file_id"), ct), "error");
        var report = await CheckFilesAsync(fixture.Sandbox, job, batch, output, errors, ct);
        fixture.Ledger.Run(scenario, report);
        AssertAnsweredOnce(job, batch, output, errors, report);
        await AssertNoStrayBlobsAsync(fixture, batch, ct);
        AssertNothingGivenUp(fixture);
        return report;
    }

    /// <summary>
    /// What the job's result files and the provider's batches show: each line checked for shape (successes only in the
    /// output file, failures only in the error file), custom_ids counted against the input, provider batches per chunk attempt.
    /// </summary>
    public static async Task<InvariantReport> CheckFilesAsync(SandboxAdmin sandbox, SubmittedJob job, JsonElement batch,
        IReadOnlyList<JsonElement> output, IReadOnlyList<JsonElement> errors, CancellationToken ct)
    {
        foreach (var line in output)
        {
            Assert.True(line.GetProperty("response").GetProperty("status_code").GetInt32() is >= 200 and < 300, $"non-success in the output file: {line}");
            Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
        }
        foreach (var line in errors)
        {
            var response = line.GetProperty("response");
            var failed = response.ValueKind == JsonValueKind.Null
                ? line.GetProperty("error").ValueKind == JsonValueKind.Object
                : response.GetProperty("status_code").GetInt32() is < 200 or >= 300;
            Assert.True(failed, $"a success in the error file: {line}");
        }

        var (expected, seen) = Answers(job, output, errors);
        var (providerBatches, duplicates, maxAttempt) = await ProviderBatchesAsync(sandbox, job.BatchId, ct);
        return new InvariantReport(job.BatchId, batch.GetProperty("status").GetString()!, job.CustomIds.Count, output.Count, errors.Count,
            expected.Count(id => !seen.ContainsKey(id)), seen.Values.Count(n => n > 1), seen.Keys.Count(id => !expected.Contains(id)),
            providerBatches, duplicates, maxAttempt);
    }

    /// <summary>The promise on a checked job: every custom_id once, request_counts equal to the files, no chunk attempt created twice.</summary>
    public static void AssertAnsweredOnce(SubmittedJob job, JsonElement batch, IReadOnlyList<JsonElement> output, IReadOnlyList<JsonElement> errors,
        InvariantReport report)
    {
        var (expected, seen) = Answers(job, output, errors);
        Assert.True(report is { Lost: 0, Doubled: 0, Extra: 0 }, $"custom_ids not answered exactly once: {report}; e.g. lost {string.Join(",", expected.Where(id => !seen.ContainsKey(id)).Take(5))}, doubled {string.Join(",", seen.Where(p => p.Value > 1).Take(5).Select(p => p.Key))}");
        var counts = batch.GetProperty("request_counts");
        Assert.Equal(job.CustomIds.Count, counts.GetProperty("total").GetInt32());
        Assert.Equal(output.Count, counts.GetProperty("completed").GetInt32());
        Assert.Equal(errors.Count, counts.GetProperty("failed").GetInt32());
        Assert.True(report.DuplicateCreates == 0, $"a chunk attempt got more than one provider batch: {report}");
    }

    private static (HashSet<string> Expected, Dictionary<string, int> Seen) Answers(SubmittedJob job, IEnumerable<JsonElement> output, IEnumerable<JsonElement> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in output.Concat(errors))
        {
            var id = line.GetProperty("custom_id").GetString()!;
            seen[id] = seen.GetValueOrDefault(id) + 1;
        }
        return (job.CustomIds.ToHashSet(StringComparer.Ordinal), seen);
    }

    /// <summary>
    /// The payload side of "nothing left behind": every blob of the ended job is a part of its output or error file, or
    /// listed in <c>ba:blobs:delete</c> (a run no file took, a dead writer's part) for the sweep; and no part of those
    /// files is listed, which would delete a file that is still served.
    /// </summary>
    public static Task AssertNoStrayBlobsAsync(ReliabilityFixture fixture, JsonElement batch, CancellationToken ct) =>
        AssertNoStrayBlobsAsync(fixture.Redis.GetDatabase(), fixture.Blobs, batch, ct);

    /// <inheritdoc cref="AssertNoStrayBlobsAsync(ReliabilityFixture, JsonElement, CancellationToken)"/>
    public static async Task AssertNoStrayBlobsAsync(IDatabase db, IBlobStore blobs, JsonElement batch, CancellationToken ct)
    {
        var parts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in new[] { "output_file_id", "error_file_id" })
        {
            if (batch.GetProperty(field).GetString() is not { } fileId) continue;
            var text = (string?)await db.HashGetAsync($"ba:file:{fileId}", "parts");
            Assert.False(string.IsNullOrEmpty(text), $"file {fileId} names no blobs");
            foreach (var part in text!.Split(';')) parts.Add(part[..part.IndexOf(' ')]);
        }
        var listed = await BlobsListedForDeletionAsync(db);
        var jobId = batch.GetProperty("id").GetString()!;
        foreach (var prefix in await BlobPrefixesAsync(blobs, $"jobs/{jobId}/", ct))
            Assert.True(parts.Contains(prefix) || listed.ContainsKey(prefix), $"blob {prefix} of {jobId} belongs to no file and is not listed for deletion");
        Assert.All(parts, part => Assert.False(listed.ContainsKey(part), $"{part}, a part of a file of {jobId}, is listed for deletion"));
    }

    /// <summary>The distinct blob prefixes (a line part's name without its ".data", ".index" or ".lines") under <paramref name="prefix"/>.</summary>
    public static async Task<HashSet<string>> BlobPrefixesAsync(IBlobStore blobs, string prefix, CancellationToken ct)
    {
        var prefixes = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var blob in blobs.ListAsync(prefix, ct)) prefixes.Add(blob.Name[..blob.Name.LastIndexOf('.')]);
        return prefixes;
    }

    /// <summary>The blob prefixes listed in <c>ba:blobs:delete</c>, with when each is due (unix ms).</summary>
    public static async Task<Dictionary<string, double>> BlobsListedForDeletionAsync(IDatabase db) =>
        (await db.SortedSetRangeByRankWithScoresAsync("ba:blobs:delete"))
            .ToDictionary(e => (string)e.Element!, e => e.Score, StringComparer.Ordinal);

    /// <summary>
    /// No service has dead-lettered a message (MassTransit logs <c>R-FAULT</c> when it moves one to an <c>_error</c>
    /// queue, and nothing sends it again) or lost a background loop (which stops its host) so far in this run.
    /// </summary>
    public static void AssertNothingGivenUp(ReliabilityFixture fixture)
    {
        var given = fixture.Control.ConsoleLogs
            .Where(l => l.Line.Contains("R-FAULT", StringComparison.Ordinal) || l.Line.Contains("BackgroundService failed", StringComparison.Ordinal))
            .Take(5).Select(l => $"{l.Resource}: {l.Line}").ToList();
        Assert.True(given.Count == 0, "a service gave up: " + string.Join(" | ", given));
    }

    /// <summary>The job's provider batches at the Sandbox, and how many chunk attempts got more than one.</summary>
    public static async Task<(int Batches, int DuplicateCreates, int MaxAttempt)> ProviderBatchesAsync(ReliabilityFixture fixture, string jobId, CancellationToken ct) =>
        await ProviderBatchesAsync(fixture.Sandbox, jobId, ct);

    /// <inheritdoc cref="ProviderBatchesAsync(ReliabilityFixture, string, CancellationToken)"/>
    public static async Task<(int Batches, int DuplicateCreates, int MaxAttempt)> ProviderBatchesAsync(SandboxAdmin sandbox, string jobId, CancellationToken ct)
    {
        var batches = await sandbox.BatchesOfJobAsync(jobId, ct);
        var byAttempt = batches.GroupBy(b => (SandboxAdmin.Metadata(b, "batchaspire_chunk"), SandboxAdmin.Metadata(b, "batchaspire_attempt")));
        var maxAttempt = batches.Select(b => int.TryParse(SandboxAdmin.Metadata(b, "batchaspire_attempt"), out var a) ? a : 0).DefaultIfEmpty(0).Max();
        return (batches.Count, byAttempt.Count(g => g.Count() > 1), maxAttempt);
    }

    /// <summary>The lines of a result file, checked for shape: '\n' at the end, no blank line, a JSON object per line.</summary>
    public static List<JsonElement> Lines(byte[]? content, string which)
    {
        if (content is null) return [];
        Assert.True(content.Length > 0, $"the {which} file exists but is empty");
        Assert.Equal((byte)'\n', content[^1]);
        var text = Encoding.UTF8.GetString(content);
        var lines = text[..^1].Split('\n');
        var parsed = new List<JsonElement>(lines.Length);
        for (var i = 0; i < lines.Length; i++)
        {
            Assert.False(string.IsNullOrWhiteSpace(lines[i]), $"blank line {i + 1} in the {which} file");
            var element = JsonDocument.Parse(lines[i]).RootElement.Clone();
            Assert.Equal(JsonValueKind.Object, element.ValueKind);
            parsed.Add(element);
        }
        return parsed;
    }
}
