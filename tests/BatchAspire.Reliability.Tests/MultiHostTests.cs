using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using BatchAspire.Reliability.Tests.Harness;
using BatchAspire.Storage;
using BatchAspire.Testing;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace BatchAspire.Reliability.Tests;

/// <summary>
/// A job runs across two service hosts and, in the middle of it, one whole service host dies (every process of it,
/// SIGKILL), one RabbitMQ node of three dies, and the Redis primary dies so the Sentinels promote its replica. The other
/// host's replicas take over the dead host's work (its messages are redelivered, its leases lapse), MassTransit moves to a
/// live node whose quorum queues hold every message, StackExchange.Redis follows the Sentinels to the new primary, and
/// the client's next call reaches the surviving intake: the job completes with every request answered once and no
/// provider batch created twice. Every call crosses a network interface between namespaces (scripts/multihost.sh).
/// </summary>
public sealed class MultiHostTests(MultiHostFixture fixture) : IClassFixture<MultiHostFixture>
{
    private const string Scenario = "service host, RabbitMQ node and Redis primary killed";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AServiceHostARabbitMQNodeAndTheRedisPrimaryKilledMidJobLoseNoRequestAndCreateNoBatchTwice()
    {
        if (fixture.Unavailable is { } reason) Assert.Skip($"the hosts cannot run here: {reason}");
        var log = TestContext.Current.TestOutputHelper!;

        // 3,000 requests of 8 ms each in chunks of 400: eight provider batches, four at a time, several seconds each.
        await fixture.Sandbox.SetFaultsAsync(new { line_latency_ms = 8 }, Ct);
        var (file, ids) = Jobs.Requests(3000, "mh");
        var sdk = fixture.Sdk;
        var clock = Stopwatch.StartNew();
        var job = new SubmittedJob(await sdk.CreateBatchAsync(await sdk.UploadAsync(file, "multihost.jsonl", Ct), Ct), MultiHostFixture.Tenant, ids);
        Assert.True(await Jobs.WaitUntilAsync(async () => (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct)).Count >= 2,
            TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(100), Ct), "the job never reached the provider");
        var before = await sdk.GetBatchAsync(job.BatchId, Ct);
        Assert.Contains(before.GetProperty("status").GetString(), new[] { "validating", "in_progress" });
        var atKill = (await fixture.Sandbox.BatchesOfJobAsync(job.BatchId, Ct))
            .Count(b => b.GetProperty("status").GetString() is "completed" or "failed" or "expired" or "cancelled");
        var primaryBefore = await fixture.RedisPrimaryAsync();
        Assert.EndsWith(":6379", primaryBefore);

        var killedAt = clock.Elapsed;
        await fixture.RunScriptAsync(TimeSpan.FromSeconds(20), "kill-host", "svc1");
        await fixture.RunScriptAsync(TimeSpan.FromSeconds(20), "kill-rabbit", "a");
        await fixture.RunScriptAsync(TimeSpan.FromSeconds(20), "kill-redis-primary");
        fixture.Ledger.Note(Scenario, kills: 3);
        foreach (var killed in new[] { "svc1-intake", "svc1-submitter", "svc1-poller", "svc1-results", "rabbit-a", "redis-primary" }) fixture.Ledger.Kill(killed);

        var failover = Stopwatch.StartNew();
        Assert.True(await Jobs.WaitUntilAsync(async () => await fixture.RedisPrimaryAsync() is { } now && now != primaryBefore,
            TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(250), Ct), "the Sentinels never promoted the replica");
        var failoverTime = failover.Elapsed;
        Assert.EndsWith(":6380", await fixture.RedisPrimaryAsync());

        var end = await WaitForEndAsync(job, TimeSpan.FromMinutes(3));
        var jobTime = clock.Elapsed;
        Assert.Equal("completed", end.GetProperty("status").GetString());
        var output = JobInvariant.Lines(await DownloadAsync(end.GetProperty("output_file_id")), "output");
        var errors = JobInvariant.Lines(await DownloadAsync(end.GetProperty("error_file_id")), "error");
        var report = await JobInvariant.CheckFilesAsync(fixture.Sandbox, job, end, output, errors, Ct);
        fixture.Ledger.Run(Scenario, report);
        var timings = $"hosts up in {fixture.StartTime.TotalSeconds:F0} s; job created and killed at {killedAt.TotalSeconds:F1} s ({atKill} of its provider batches ended then), Redis failed over {failoverTime.TotalSeconds:F1} s later, job completed at {jobTime.TotalSeconds:F1} s: {report}";
        log.WriteLine(timings);
        // Beside the figures, for docs/reliability.md (a passing test's output is not shown).
        await File.AppendAllLinesAsync(Path.Combine(AppContext.BaseDirectory, "multihost-timings.log"), [$"{DateTime.UtcNow:O} {timings}"], Ct);
        JobInvariant.AssertAnsweredOnce(job, end, output, errors, report);
        Assert.True(report.ProviderBatches >= 8, $"fewer provider batches than chunks: {report}");
        await AssertNoStrayBlobsAsync(end);
        AssertNoServiceGaveUp();
    }

    /// <summary>Polls the batch (bounded) through whichever intake answers; errors while a host is gone are waited out.</summary>
    private async Task<JsonElement> WaitForEndAsync(SubmittedJob job, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        string? status = null;
        while (true)
        {
            try
            {
                var batch = await fixture.Sdk.GetBatchAsync(job.BatchId, Ct);
                status = batch.GetProperty("status").GetString();
                if (status is "completed" or "failed" or "expired" or "cancelled") return batch;
            }
            catch (Exception e) when (e is HttpRequestException or System.ClientModel.ClientResultException && !Ct.IsCancellationRequested)
            {
                // The intake that answered last may be on the killed host, or waiting for Redis' failover.
            }
            Assert.True(DateTime.UtcNow < deadline, $"batch {job.BatchId} still {status ?? "unknown"} after {bound}");
            await Task.Delay(500, Ct);
        }
    }

    private async Task<byte[]?> DownloadAsync(JsonElement fileId)
    {
        if (fileId.ValueKind != JsonValueKind.String) return null;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(fixture.IntakeBaseUrl, $"/v1/files/{fileId.GetString()}/content"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.ApiKey);
        using var response = await fixture.Intake.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode, $"download of {fileId} answered {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync(Ct);
    }

    /// <summary>
    /// Every blob of the job belongs to its output or error file or is listed for the sweep, read from the new Redis
    /// primary and from Azurite through connections that start in the client namespace.
    /// </summary>
    private async Task AssertNoStrayBlobsAsync(JsonElement end)
    {
        var primary = IPEndPoint.Parse((await fixture.RedisPrimaryAsync())!);
        await using var redisForward = fixture.Client.Forward(primary);
        await using var blobForward = fixture.Client.Forward(fixture.BlobAddress);
        await using var redis = await ConnectionMultiplexer.ConnectAsync($"{redisForward.Local},connectTimeout=5000,syncTimeout=5000,asyncTimeout=5000");
        var blobs = BlobStoreExtensions.Create(new BlobStoreOptions { Provider = BlobStoreProviders.Azure },
            AzuriteServer.DevelopmentConnectionString(blobForward.Local.Port));
        // The listing reads the job's blobs for real: a store that answered with nothing would pass the check below.
        Assert.NotEmpty(await JobInvariant.BlobPrefixesAsync(blobs, $"jobs/{end.GetProperty("id").GetString()}/", Ct));
        await JobInvariant.AssertNoStrayBlobsAsync(redis.GetDatabase(), blobs, end, Ct);
    }

    /// <summary>No service, on either host, dead-lettered a message (MassTransit's <c>R-FAULT</c>) or lost a background loop.</summary>
    private void AssertNoServiceGaveUp()
    {
        var given = Directory.EnumerateFiles(fixture.LogDirectory, "svc*.log")
            .SelectMany(f => File.ReadLines(f).Select(line => (File: Path.GetFileName(f), Line: line)))
            .Where(l => l.Line.Contains("R-FAULT", StringComparison.Ordinal) || l.Line.Contains("BackgroundService failed", StringComparison.Ordinal))
            .Take(5).Select(l => $"{l.File}: {l.Line}").ToList();
        Assert.True(given.Count == 0, "a service gave up: " + string.Join(" | ", given));
    }
}
