using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Redis;
using BatchAspire.Results.Webhooks;

namespace BatchAspire.Results.Tests.Webhooks;

/// <summary>
/// The events whole jobs send, as the official openai npm package (7.x) sees them: four jobs end completed, failed
/// (their file failed the checks), cancelled and expired in the pipeline host, and <c>client.webhooks.unwrap</c>
/// verifies every delivery and refuses a tampered body.
/// </summary>
public sealed class WebhookSdkTests(RedisFixture redis) : IAsyncLifetime
{
    private static readonly string Secret = WebhookSigningTests.NewSecret();

    private SandboxServer _sandbox = null!;
    private WebhookReceiver _receiver = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sandbox = SandboxServer.Start();
        _receiver = await WebhookReceiver.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task TheOpenAINodeSdkVerifiesEveryEventAJobSendsAndRefusesATamperedBody()
    {
        var sdk = await NodeSdk.EnsureInstalledAsync(Ct);
        _sandbox.SetFaults(f => f.LineLatencyMs = 20);
        const string tenant = "webhook-sdk";
        await using var pipeline = await PipelineHost.StartAsync(redis, _sandbox, new Dictionary<string, string?>
        {
            ["Submitter:MaxLinesPerChunk"] = "50",
            ["Results:CompletionWindowOverride"] = "01:00:00",
            ["Results:ExpiryGrace"] = "00:00:01",
            ["Webhooks:AllowPrivateAddresses"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.050",
            ["Webhooks:Endpoints:0:Tenant"] = tenant,
            ["Webhooks:Endpoints:0:Url"] = _receiver.Url("openai").ToString(),
            ["Webhooks:Endpoints:0:Secret"] = Secret,
        });

        var completed = await pipeline.CreateJobAsync(PipelineJsonl.File(5), Ct, tenant);
        await pipeline.Bus.Publish(new JobAccepted { JobId = completed.JobId }, Ct);
        var cancelled = await pipeline.CreateJobAsync(PipelineJsonl.File(50), Ct, tenant);
        await pipeline.Jobs.RequestCancelAsync(tenant, cancelled.JobId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Ct);
        await pipeline.Bus.Publish(new JobCancelRequested { JobId = cancelled.JobId }, Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = cancelled.JobId }, Ct);
        var expired = await pipeline.CreateJobAsync(PipelineJsonl.File(400), Ct, tenant);
        await pipeline.Bus.Publish(new JobAccepted { JobId = expired.JobId }, Ct);
        var failed = JobIds.New();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // What the intake stores for a batch whose input file fails the checks.
        await pipeline.Jobs.CreateFailedAsync(new NewJob(failed, tenant, PipelineJsonl.Endpoint, completed.InputFileId, "24h", now, now + 86_400, 0),
            [LineError.InvalidJson(1)], Ct);
        await PipelineHost.WaitUntilAsync(async () => (await pipeline.Chunks.ListAsync(expired.JobId)).Count > 0, TimeSpan.FromSeconds(30), "the job planned");
        // Two hours pass for this job: it was created before its one-hour window began.
        var created = DateTimeOffset.UtcNow.AddHours(-2);
        await pipeline.Db.HashSetAsync(RedisKeys.Job(expired.JobId), JobFields.CreatedAt, created.ToUnixTimeSeconds());
        await pipeline.Db.SortedSetAddAsync(RedisKeys.OpenJobs, expired.JobId, created.ToUnixTimeMilliseconds());

        var expected = new Dictionary<string, string>
        {
            [completed.JobId] = WebhookEventTypes.Completed, [failed] = WebhookEventTypes.Failed,
            [cancelled.JobId] = WebhookEventTypes.Cancelled, [expired.JobId] = WebhookEventTypes.Expired,
        };
        await PipelineHost.WaitUntilAsync(() => Task.FromResult(_receiver.Accepted.Count >= expected.Count), TimeSpan.FromSeconds(60), "an event of each job");
        var deliveries = _receiver.Accepted;
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(deliveries.Select(d => new { headers = d.Headers, body = d.Body })), Ct);
            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "verify-webhooks.mjs"), [file, Secret], sdk,
                _sandbox.BaseUrl, "openai-v7", Ct);

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            using var result = JsonDocument.Parse(stdout);
            var events = result.RootElement.GetProperty("events").EnumerateArray().ToList();
            Assert.Equal(expected.Count, events.Count);
            Assert.Equal(expected.OrderBy(e => e.Key),
                events.Select(e => KeyValuePair.Create(e.GetProperty("data").GetProperty("id").GetString()!, e.GetProperty("type").GetString()!)).OrderBy(e => e.Key));
            for (var i = 0; i < events.Count; i++)
            {
                Assert.Equal("event", events[i].GetProperty("object").GetString());
                Assert.Equal(deliveries[i].Headers[WebhookSigner.IdHeader], events[i].GetProperty("id").GetString());
                Assert.True(events[i].GetProperty("created_at").GetInt64() >= now - 5);
            }
            var tampered = result.RootElement.GetProperty("tampered").GetString();
            Assert.NotNull(tampered);
            Assert.Contains("InvalidWebhookSignatureError", tampered);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
