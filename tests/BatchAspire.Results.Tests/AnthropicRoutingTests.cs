using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;

namespace BatchAspire.Results.Tests;

/// <summary>
/// Jobs whose model is routed to a provider of kind anthropic (the in-process Sandbox's Message Batches API) through
/// submitter, poller and results; every test owns its Sandbox (fault knobs are global).
/// </summary>
public sealed class AnthropicRoutingTests(RedisFixture redis) : SandboxOwningTests
{
    private Dictionary<string, string?> Routed(int maxLines) => new()
    {
        ["Providers:claude:Kind"] = "anthropic",
        ["Providers:claude:BaseUrl"] = Sandbox.RootUrl.ToString(),
        ["Providers:claude:ApiKey"] = SandboxServer.ApiKey,
        ["Providers:claude:MaxLinesPerChunk"] = maxLines.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"Routing:Routes:{PipelineJsonl.Model}:0:Provider"] = "claude",
        [$"Routing:Routes:{PipelineJsonl.Model}:0:Model"] = "claude-haiku-4-5",
        [$"Routing:Routes:{PipelineJsonl.Model}:0:InputPerMillion"] = "1",
        [$"Routing:Routes:{PipelineJsonl.Model}:0:OutputPerMillion"] = "5",
    };

    [Fact]
    public async Task JobRoutedToAnthropicCompletesInInputOrderWithChunksCutAtTheProvidersCapAndCostAtTheRoutesPrices()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Routed(maxLines: 400));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, []);
        Assert.All(output, line => Assert.Equal(200, ResultFiles.StatusCode(line)));
        using (var first = JsonDocument.Parse(output[0]))
        {
            var body = first.RootElement.GetProperty("response").GetProperty("body");
            Assert.Equal("chat.completion", body.GetProperty("object").GetString());
            Assert.Equal("claude-haiku-4-5", body.GetProperty("model").GetString());   // the route's model name was sent
        }
        // Cut at the provider's 400 lines, not the submitter's 50,000; each chunk records where it ran.
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Equal([400L, 400L, 200L], chunks.Select(c => c.Count));
        Assert.All(chunks, c => Assert.Equal("claude", c.Provider));
        Assert.All(chunks, c => Assert.StartsWith("msgbatch_", c.ProviderBatchId));
        Assert.Empty(await Sandbox.BatchesOfJobAsync(job.JobId, Ct));   // nothing went to the OpenAI surface
        // The route's prices, 1 and 5 USD per million, halved by the Batch discount.
        var input = ended.GetInt64(JobFields.InputTokens)!.Value;
        var outputTokens = ended.GetInt64(JobFields.OutputTokens)!.Value;
        Assert.True(input > 0 && outputTokens > 0);
        Assert.Equal((input * 1.0 + outputTokens * 5.0) / 1_000_000, ended.GetDouble(JobFields.CostStandardUsd)!.Value, 9);
    }

    [Fact]
    public async Task JobRoutedToAnthropicThatIsCancelledEndsCancelledWithItsBatchesCancelledAtAnthropic()
    {
        Sandbox.SetFaults(f => f.LineLatencyMs = 20);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Routed(maxLines: 50));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);
        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await PipelineHost.WaitUntilAsync(() => pipeline.AnyResultsStoredAsync(job.JobId), TimeSpan.FromSeconds(30), "the first results");

        var cancel = await pipeline.Jobs.RequestCancelAsync(job.Tenant, job.JobId, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Ct);
        Assert.True(cancel.Cancelling);
        await pipeline.Bus.Publish(new JobCancelRequested { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Cancelled, ended.Status);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, errors);
        Assert.NotEmpty(output);
        Assert.NotEmpty(errors);
        Assert.All(errors, line => Assert.Equal("batch_cancelled", ResultFiles.ErrorCode(line)));
        // At least one batch was still running at Anthropic and was cancelled there (the poller read it as cancelled).
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Contains(chunks, c => c.ProviderBatchId is not null && c.Status == JobStatus.Cancelled);
    }
}
