using BatchAspire.Contracts;

namespace BatchAspire.EndToEnd.Tests;

[Collection(nameof(AppHostCollection))]
public sealed class TraceTests(AppHostFixture fixture)
{
    [Fact]
    public async Task SpansOfOneJobInEveryServiceShareOneTrace()
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, "ba-dev-key");
        var fileId = await sdk.UploadAsync(JobTests.Requests(4, "traced"), "traced.jsonl", ct);
        var batchId = await sdk.CreateBatchAsync(fileId, ct);
        await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(3), ct);

        // The job's trace is the one whose spans name the job; every service must appear in it.
        string[] services = [ResourceNames.Intake, ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        HashSet<string> seen = [];
        while (DateTime.UtcNow < deadline)
        {
            var traceIds = fixture.Telemetry.Spans
                .Where(s => s.Attributes.Values.Any(v => v == batchId))
                .Select(s => s.TraceId)
                .ToHashSet();
            Assert.True(traceIds.Count <= 1, $"job {batchId} is spread over {traceIds.Count} traces");
            seen = fixture.Telemetry.Spans.Where(s => traceIds.Contains(s.TraceId)).Select(s => s.Service).ToHashSet();
            if (services.All(seen.Contains))
            {
                return;
            }
            await Task.Delay(1000, ct);
        }
        Assert.Fail($"services in the job's trace: {string.Join(", ", seen)}; expected {string.Join(", ", services)}");
    }

    [Fact]
    public async Task AJobsTraceIsNamedByItsBatchIdWithASpanPerStage()
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, "ba-dev-key");
        var fileId = await sdk.UploadAsync(JobTests.Requests(3, "staged"), "staged.jsonl", ct);
        var batchId = await sdk.CreateBatchAsync(fileId, ct);
        await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(3), ct);

        // The stages as spans: validate (intake), plan and submit (submitter), the provider's run and the poll
        // (poller), the chunk's results and the assembly (results).
        string[] stages = ["validate", "plan job", "submit chunk", "provider running", "poll chunk", "process chunk results", "assemble job"];
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<string> names = [];
        while (DateTime.UtcNow < deadline)
        {
            var root = fixture.Telemetry.Spans.SingleOrDefault(s => s.Name == $"batch {batchId}");
            if (root is not null)
            {
                Assert.Equal("", root.ParentSpanId);
                Assert.Equal(batchId, root.Attributes.GetValueOrDefault("batchaspire.job_id"));
                Assert.Equal("dev", root.Attributes.GetValueOrDefault("batchaspire.tenant"));
                names = [.. fixture.Telemetry.Spans.Where(s => s.TraceId == root.TraceId).Select(s => s.Name).Distinct()];
                if (stages.All(names.Contains)) return;
            }
            await Task.Delay(500, ct);
        }
        Assert.Fail($"spans in the trace of {batchId}: {string.Join(", ", names)}; expected {string.Join(", ", stages)}");
    }
}
