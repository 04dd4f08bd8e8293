using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Reliability.Tests.Harness;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// Each BatchAspire service SIGKILLed at the moment that matters most, then restarted through Aspire; the job it
/// was working on must still end with every request answered exactly once and no chunk submitted twice.
/// Provider-side delays (Sandbox <c>response_delay_*</c> knobs) hold the dangerous window open long enough for
/// the kill to land inside it, and each test checks that it did.
/// </summary>
public abstract class ServiceCrashScenarios(ReliabilityFixture fixture) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => new(fixture.RestoreAsync(Ct));

    public ValueTask DisposeAsync() => new(fixture.RestoreAsync(CancellationToken.None));

    [Fact]
    public async Task JobWithoutFaultsAnswersEveryRequestExactlyOnce()
    {
        var job = await Jobs.SubmitAsync(fixture, "alpha", 900, "plain", Ct);

        var batch = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(2), Ct);

        var report = await JobInvariant.CheckAsync(fixture, job, batch, "no faults", Ct);
        Assert.Equal(900, report.Output);
        Assert.Equal(3, report.ProviderBatches);
    }

    [Fact]
    public async Task SubmitterKilledBetweenBatchCreationAndRecordingItCreatesNoSecondBatch()
    {
        // The first create's answer is held back 6 s at the provider: the batch exists there, the submitter does not know it.
        await fixture.Sandbox.SetFaultsAsync(new
        {
            response_delay_ms = 6000, response_delay_method = "POST", response_delay_path_prefix = "/v1/batches", response_delay_next = 1,
            line_latency_ms = 1,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 800, "create-kill", Ct);

        string? unrecorded = null;
        Assert.True(await Jobs.WaitUntilAsync(async () =>
        {
            foreach (var batch in await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct))
            {
                var chunk = SandboxAdmin.Metadata(batch, "batchaspire_chunk")!;
                if (!await ChunkHasBatchAsync(chunk)) { unrecorded = chunk; return true; }
            }
            return false;
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50), Ct), "no provider batch was created for the job");

        var killed = await fixture.Control.KillAsync(ResourceNames.Submitter, 0, Ct);
        Assert.False(await ChunkHasBatchAsync(unrecorded!), "the kill landed after the batch id was recorded");
        await fixture.Sandbox.ClearFaultsAsync(Ct);
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("submitter killed between create and record", kills: 1, restarts: 1);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
        var report = await JobInvariant.CheckAsync(fixture, job, end, "submitter killed between create and record", Ct);
        Assert.Equal(2, report.ProviderBatches);
    }

    [Fact]
    public async Task PollersKilledWhileHoldingLeasesAreReplacedAndEveryChunkIsFinishedOnce()
    {
        // Every GET of a provider batch takes 1.5 s to answer: a poller holds its lease for that long. Lines take 50 ms,
        // so each 400-line provider batch runs about 20 s: the job is still open for the second kill, after the first
        // replica's restart (at 2 ms a line the job could end before it, and no GET would come to wait for).
        await fixture.Sandbox.SetFaultsAsync(new
        {
            response_delay_ms = 1500, response_delay_method = "GET", response_delay_path_prefix = "/v1/batches/", line_latency_ms = 50,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 1600, "poller-kill", Ct);
        var replicas = fixture.Control.InstancesOf(ResourceNames.Poller);
        Assert.Equal(2, replicas.Count);

        // Kill each replica in turn while GETs of this job are in flight: whichever held the leases died holding them.
        foreach (var replica in new[] { 0, 1 })
        {
            var before = await GetsOfJobAsync(job);
            Assert.True(await Jobs.WaitUntilAsync(async () => await GetsOfJobAsync(job) > before, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50), Ct),
                "no poll of the job's provider batches started");
            var killed = await fixture.Control.KillAsync(ResourceNames.Poller, replica, Ct);
            await Task.Delay(TimeSpan.FromSeconds(2), Ct);
            await fixture.Control.StartAsync(killed, Ct);
            fixture.Ledger.Note("poller killed holding leases", kills: 1, restarts: 1);
        }
        await fixture.Sandbox.ClearFaultsAsync(Ct);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "poller killed holding leases", Ct);
    }

    [Fact]
    public async Task ResultsKilledMidDownloadStoresEveryResultOnceAfterRestart()
    {
        // Result downloads stall 5 s at the provider after they have begun.
        await fixture.Sandbox.SetFaultsAsync(new
        {
            response_delay_ms = 5000, response_delay_method = "GET", response_delay_path_prefix = "/v1/files/", line_latency_ms = 1,
        }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 800, "download-kill", Ct);

        string? downloading = null;
        Assert.True(await Jobs.WaitUntilAsync(async () =>
        {
            var stats = await fixture.Sandbox.StatsAsync(Ct);
            var outputs = (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct))
                .Select(b => b.GetProperty("output_file_id")).Where(f => f.ValueKind == JsonValueKind.String).Select(f => f.GetString()!);
            downloading = outputs.FirstOrDefault(f => stats.GetProperty("file_downloads").TryGetProperty(f, out _));
            return downloading is not null;
        }, TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(50), Ct), "results never began downloading the job's output");

        var killed = await fixture.Control.KillAsync(ResourceNames.Results, 0, Ct);
        Assert.NotEqual("completed", await Jobs.StatusInRedisAsync(fixture, job.BatchId));
        await fixture.Sandbox.ClearFaultsAsync(Ct);
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("results killed mid-download", kills: 1, restarts: 1);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "results killed mid-download", Ct);
    }

    [Fact]
    public async Task ResultsKilledMidAssemblyLeavesNoHalfWrittenFileAndTheJobCompletesOnce()
    {
        // Long result lines (the Sandbox echoes a 3 KB message) written out of input order make assembly copy every line
        // into place (in order, result runs are taken whole in milliseconds), long enough to be interrupted.
        await fixture.Sandbox.SetFaultsAsync(new { output_out_of_order = true }, Ct);
        string? landed = null;
        SubmittedJob? job = null;
        for (var attempt = 0; attempt < 4 && landed is null; attempt++)
        {
            var filesBefore = await FileIdsAsync("bravo");
            job = await Jobs.SubmitAsync(fixture, "bravo", 3000, $"assembly-kill-{attempt}", Ct, messageBytes: 3000);
            var current = job;
            var finalizing = await Jobs.WaitUntilAsync(async () => await Jobs.StatusInRedisAsync(fixture, current.BatchId) is "finalizing" or "completed",
                TimeSpan.FromMinutes(3), TimeSpan.FromMilliseconds(2), Ct);
            Assert.True(finalizing, $"{job.BatchId} never reached finalizing");
            var killed = await fixture.Control.KillAsync(ResourceNames.Results, 0, Ct);
            var statusAfterKill = await Jobs.StatusInRedisAsync(fixture, job.BatchId);
            if (statusAfterKill == "finalizing")
            {
                landed = job.BatchId;
                // Whatever the dead writer staged is invisible (not a file of the tenant) and listed for the sweep.
                Assert.Equal(filesBefore.Count + 1, (await FileIdsAsync("bravo")).Count);
                var listed = await fixture.BlobsListedForDeletionAsync();
                foreach (var prefix in await fixture.BlobPrefixesAsync($"jobs/{job.BatchId}/assembly/", Ct))
                    Assert.True(listed.ContainsKey(prefix), $"{prefix}, staged by the killed assembly, is not listed for deletion");
            }
            await fixture.Control.StartAsync(killed, Ct);
            fixture.Ledger.Note("results killed mid-assembly", kills: 1, restarts: 1);
            var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
            await JobInvariant.CheckAsync(fixture, job, end, "results killed mid-assembly", Ct);
            Assert.Equal(filesBefore.Count + 2, (await FileIdsAsync("bravo")).Count);   // input and output, nothing else
        }
        Assert.True(landed is not null, "in four jobs the kill never landed while the job was finalizing");
    }

    [Fact]
    public async Task IntakeKilledMidUploadLeavesNoFileAndAFreshUploadRunsNormally()
    {
        var filesBefore = await FileIdsAsync("charlie");
        var (file, ids) = Jobs.Requests(20_000, "upload-kill");
        var halfSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var http = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/files")
        {
            Content = new StalledMultipart(file.ToArray(), "upload-kill.jsonl", halfSent, killDone.Task),
        };
        request.Headers.Authorization = new("Bearer", fixture.KeyOf("charlie"));
        var upload = http.SendAsync(request, Ct);

        await halfSent.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await Task.Delay(500, Ct);   // let the intake store what it has received
        var killed = await fixture.Control.KillAsync(ResourceNames.Intake, 0, Ct);
        killDone.SetResult();
        await Assert.ThrowsAnyAsync<Exception>(async () => (await upload.WaitAsync(TimeSpan.FromSeconds(60), Ct)).EnsureSuccessStatusCode());
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("intake killed mid-upload", kills: 1, restarts: 1);

        Assert.Equal(filesBefore, await FileIdsAsync("charlie"));
        // The dead upload committed no blob; whatever it wrote under a temporary name is the blob store's to free, and
        // its prefix is listed for the sweep. Every committed file blob belongs to a file that exists.
        var listed = await fixture.BlobsListedForDeletionAsync();
        foreach (var prefix in await fixture.BlobPrefixesAsync("files/", Ct))
            Assert.True(listed.ContainsKey(prefix) || await fixture.Redis.GetDatabase().KeyExistsAsync($"ba:file:{prefix["files/".Length..]}"),
                $"{prefix} belongs to no file and is not listed for deletion");

        file.Position = 0;
        var sdk = fixture.Sdk("charlie");
        var fileId = await sdk.UploadAsync(file, "upload-kill.jsonl", Ct);
        var job = new SubmittedJob(await sdk.CreateBatchAsync(fileId, Ct), "charlie", ids);
        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(4), Ct);
        await JobInvariant.CheckAsync(fixture, job, end, "intake killed mid-upload", Ct);
    }

    [Fact]
    public async Task CancelSentWhileTheSubmitterIsDeadEndsTheJobCancelledWithEveryRequestAnsweredOnce()
    {
        // 25 ms a line: each provider batch runs for 10 s, so the cancel finds work to stop.
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 25 }, Ct);
        var job = await Jobs.SubmitAsync(fixture, "alpha", 2000, "cancel-crash", Ct);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");

        var killed = await fixture.Control.KillAsync(ResourceNames.Submitter, 0, Ct);
        using (var http = fixture.CreateIntakeClient())
        using (var cancel = new HttpRequestMessage(HttpMethod.Post, $"/v1/batches/{job.BatchId}/cancel"))
        {
            cancel.Headers.Authorization = new("Bearer", fixture.KeyOf("alpha"));
            using var response = await http.SendAsync(cancel, Ct);
            Assert.Equal("cancelling", JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("status").GetString());
        }
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await fixture.Control.StartAsync(killed, Ct);
        fixture.Ledger.Note("cancel while the submitter is dead", kills: 1, restarts: 1);

        var end = await Jobs.WaitForEndAsync(fixture, job, TimeSpan.FromMinutes(3), Ct);
        var report = await JobInvariant.CheckAsync(fixture, job, end, "cancel while the submitter is dead", Ct, "cancelled");
        Assert.True(report.Errors > 0, $"nothing was cancelled: {report}");
    }

    private async Task<long> GetsOfJobAsync(SubmittedJob job)
    {
        var ids = (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Select(b => b.GetProperty("id").GetString()!).ToList();
        var gets = (await fixture.Sandbox.StatsAsync(Ct)).GetProperty("batch_gets");
        return ids.Sum(id => gets.TryGetProperty(id, out var n) ? n.GetInt64() : 0);
    }

    private Task<IReadOnlyList<string>> FileIdsAsync(string tenant) => Jobs.FileIdsAsync(fixture, tenant, Ct);

    private async Task<bool> ChunkHasBatchAsync(string chunkId)
    {
        var dot = chunkId.LastIndexOf('.');
        var key = $"ba:{{{chunkId[..dot]}}}:chunk:{chunkId[(dot + 1)..]}";
        return await fixture.Redis.GetDatabase().HashExistsAsync(key, "provider_batch_id");
    }
}

[Collection(nameof(ReliabilityCollection))]
public sealed class ServiceCrashTests(ReliabilityFixture fixture) : ServiceCrashScenarios(fixture);

/// <summary>The same scenarios with the payload in Azurite.</summary>
[Collection(nameof(AzureReliabilityCollection))]
public sealed class ServiceCrashTestsOnAzure(AzureReliabilityFixture fixture) : ServiceCrashScenarios(fixture);
