using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;

namespace BatchAspire.Results.Tests;

/// <summary>
/// Per-line fallback along a model's route (docs/pipeline.md, "Per-line fallback") and the cost ledger per provider,
/// through submitter, poller and results in one process: the route's first provider is the OpenAI surface of one
/// Sandbox, its second the Anthropic surface of another, so the first's fault knobs (global to a Sandbox) leave the
/// second alone.
/// </summary>
public sealed class ProviderFallbackTests(RedisFixture redis) : IAsyncLifetime
{
    private const string OpenAI = "openai-a";
    private const string Claude = "claude";
    private const string ClaudeModel = "claude-haiku-4-5";
    private const double OpenAIInput = 0.05, OpenAIOutput = 0.40, ClaudeInput = 1.0, ClaudeOutput = 5.0;

    private SandboxServer _first = null!;
    private SandboxServer _second = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _first = SandboxServer.Start();
        _second = SandboxServer.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    /// <summary>gpt-5-nano routed OpenAI (the first Sandbox) → Anthropic (the second), each with its prices.</summary>
    private Dictionary<string, string?> Routed(int maxAttempts, int maxLines) => new()
    {
        [$"Providers:{OpenAI}:Kind"] = "openai",
        [$"Providers:{OpenAI}:BaseUrl"] = _first.BaseUrl.ToString(),
        [$"Providers:{OpenAI}:ApiKey"] = SandboxServer.ApiKey,
        [$"Providers:{OpenAI}:MaxLinesPerChunk"] = maxLines.ToString(CultureInfo.InvariantCulture),
        [$"Providers:{Claude}:Kind"] = "anthropic",
        [$"Providers:{Claude}:BaseUrl"] = _second.RootUrl.ToString(),
        [$"Providers:{Claude}:ApiKey"] = SandboxServer.ApiKey,
        [$"Routing:Routes:{PipelineJsonl.Model}:0:Provider"] = OpenAI,
        [$"Routing:Routes:{PipelineJsonl.Model}:0:InputPerMillion"] = OpenAIInput.ToString(CultureInfo.InvariantCulture),
        [$"Routing:Routes:{PipelineJsonl.Model}:0:OutputPerMillion"] = OpenAIOutput.ToString(CultureInfo.InvariantCulture),
        [$"Routing:Routes:{PipelineJsonl.Model}:1:Provider"] = Claude,
        [$"Routing:Routes:{PipelineJsonl.Model}:1:Model"] = ClaudeModel,
        [$"Routing:Routes:{PipelineJsonl.Model}:1:InputPerMillion"] = ClaudeInput.ToString(CultureInfo.InvariantCulture),
        [$"Routing:Routes:{PipelineJsonl.Model}:1:OutputPerMillion"] = ClaudeOutput.ToString(CultureInfo.InvariantCulture),
        ["Results:MaxAttempts"] = maxAttempts.ToString(CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task LinesTheFirstProviderAlwaysFailsAreAnsweredByTheSecondAfterTheirTriesAtTheFirst()
    {
        _first.SetFaults(f => f.LineFail500Rate = 1.0);
        await using var pipeline = await PipelineHost.StartAsync(redis, _first, Routed(maxAttempts: 2, maxLines: 100));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(200), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.ErrorFileId]);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(200, output, []);
        Assert.All(output, line => Assert.Equal(ClaudeModel, ModelOf(line)));
        // Two planned chunks, each tried twice at the first provider, then once at the second.
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Equal([$"{Claude} 1 3", $"{Claude} 1 3", $"{OpenAI} 1 1", $"{OpenAI} 1 1", $"{OpenAI} 2 2", $"{OpenAI} 2 2"],
            chunks.Select(Placement).Order());
        Assert.Equal(4, (await _first.BatchesOfJobAsync(job.JobId, Ct)).Count);
        var ledger = ProviderLedger.Parse(ended[JobFields.CostProviders]);
        Assert.Equal(200, Assert.Single(ledger, e => e.Provider == Claude).Completed);
        Assert.DoesNotContain(ledger, e => e.Provider == OpenAI && (e.Completed > 0 || e.Failed > 0));
    }

    [Fact]
    public async Task ALineThatFailsAtEveryProviderOfItsRouteGetsItsTriesAtEachAndThenFailsFinally()
    {
        _first.SetFaults(f => f.LineFail500Rate = 1.0);
        _second.SetFaults(f => f.LineFail500Rate = 1.0);
        await using var pipeline = await PipelineHost.StartAsync(redis, _first, Routed(maxAttempts: 2, maxLines: 100));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(50), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var errors = await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(50, [], errors);
        Assert.All(errors, line => Assert.Equal(500, ResultFiles.StatusCode(line)));
        Assert.Equal([$"{OpenAI} 1 1", $"{OpenAI} 2 2", $"{Claude} 1 3", $"{Claude} 2 4"],
            (await pipeline.ChunkRecordsAsync(job.JobId)).Select(Placement));
        var ledger = ProviderLedger.Parse(ended[JobFields.CostProviders]);
        Assert.Equal(50, Assert.Single(ledger, e => e.Provider == Claude).Failed);
    }

    [Fact]
    public async Task AModelWithoutARouteKeepsItsAttemptsAtTheDefaultProviderAndNoLedger()
    {
        _first.SetFaults(f => f.LineFail500Rate = 1.0);
        var settings = Routed(maxAttempts: 2, maxLines: 100);
        await using var pipeline = await PipelineHost.StartAsync(redis, _first, settings);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(50), Ct, model: "gpt-4.1-mini");

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(50, ended.GetInt64(JobFields.RequestFailed));
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Equal([1, 2], chunks.Select(c => c.Attempt));
        Assert.All(chunks, c => Assert.Null(c.Provider));
        Assert.Null(ended[JobFields.CostProviders]);
        Assert.Empty(await _second.BatchesOfJobAsync(job.JobId, Ct));
    }

    /// <summary>
    /// The measure: 250,000 requests routed OpenAI → Anthropic, the OpenAI Sandbox expiring one chunk and failing
    /// 10% of lines with 500. Two tries at each provider: a line failing twice at OpenAI is answered by Anthropic.
    /// </summary>
    [Fact]
    public async Task AJobOf250000RequestsRoutedOpenAIToAnthropicWithFaultsEndsWithEveryRequestAnsweredOnceAndALedgerPerProvider()
    {
        const int total = 250_000;
        _first.SetFaults(f =>
        {
            f.LineFail500Rate = 0.1;
            f.ExpireAfterSeconds = 0.2;
            f.ExpireNextBatches = 1;
        });
        var clock = Stopwatch.StartNew();
        await using var pipeline = await PipelineHost.StartAsync(redis, _first, Routed(maxAttempts: 2, maxLines: 50_000));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(total), Ct);
        var created = clock.Elapsed;

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromMinutes(4));
        var ran = clock.Elapsed - created;

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.ErrorFileId]);
        Assert.Equal(total, ended.GetInt64(JobFields.RequestCompleted));
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Single(chunks, c => c.Provider == OpenAI && c.Status == "expired");
        Assert.Contains(chunks, c => c.Provider == OpenAI && c.ProviderTry == 2);
        Assert.Contains(chunks, c => c.Provider == Claude && c.ProviderTry == 1);

        // Which lines ran where: every line once, in input order, and the answer in it came from the provider the
        // chunks say (the route sends Anthropic its own model name).
        var lines = await pipeline.Chunks.ReadLineProvidersAsync(job.JobId, total);
        var answered = new Dictionary<string, long>();
        long next = 0;
        await foreach (var line in OutputLinesAsync(pipeline, ended[JobFields.OutputFileId]!))
        {
            var (customId, status, model) = Read(line.Span);
            Assert.Equal(PipelineJsonl.CustomId((int)next), customId);
            Assert.Equal(200, status);
            var provider = lines[next]!;
            Assert.Equal(provider == Claude ? ClaudeModel : PipelineJsonl.Model, model);
            answered[provider] = answered.GetValueOrDefault(provider) + 1;
            next++;
        }
        Assert.Equal(total, next);

        // The ledger: the requests each provider answered sum to the job; each share costs its tokens at its prices
        // (halved by the Batch discount), and the job's cost is the sum.
        var ledger = ProviderLedger.Parse(ended[JobFields.CostProviders]).ToDictionary(e => e.Provider);
        Assert.Equal([Claude, OpenAI], ledger.Keys.Order());
        Assert.Equal(total, ledger.Values.Sum(e => e.Completed));
        Assert.All(ledger.Values, e => Assert.Equal(0, e.Failed));
        Assert.Equal(answered[OpenAI], ledger[OpenAI].Completed);
        Assert.Equal(answered[Claude], ledger[Claude].Completed);
        Assert.True(ledger[Claude].Completed >= 1_000, $"the expired chunk's and twice-failed lines went to Anthropic ({ledger[Claude].Completed})");
        AssertCost(ledger[OpenAI], OpenAIInput, OpenAIOutput);
        AssertCost(ledger[Claude], ClaudeInput, ClaudeOutput);
        Assert.Equal(ledger.Values.Sum(e => e.Cost!.Value.BatchUsd), ended.GetDouble(JobFields.CostBatchUsd)!.Value, 9);
        Assert.Equal(ledger.Values.Sum(e => e.Usage.InputTokens), ended.GetInt64(JobFields.InputTokens));
        Assert.Equal(ledger.Values.Sum(e => e.Usage.OutputTokens), ended.GetInt64(JobFields.OutputTokens));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"250,000 requests: input stored in {created.TotalSeconds:0.0} s, job ran {ran.TotalSeconds:0.0} s; {chunks.Count} chunks; " +
            $"{OpenAI} {ledger[OpenAI].Completed}, {Claude} {ledger[Claude].Completed} answered");
    }

    /// <summary>"provider try-there attempt" of a chunk.</summary>
    private static string Placement(ChunkRecord chunk) => $"{chunk.Provider} {chunk.ProviderTry} {chunk.Attempt}";

    private static void AssertCost(ProviderLedgerEntry entry, double inputPrice, double outputPrice)
    {
        Assert.True(entry.Usage.InputTokens > 0 && entry.Usage.OutputTokens > 0);
        var standard = (entry.Usage.InputTokens * inputPrice + entry.Usage.OutputTokens * outputPrice) / 1_000_000;
        Assert.Equal(standard, entry.Cost!.Value.StandardUsd, 9);
        Assert.Equal(standard * 0.5, entry.Cost!.Value.BatchUsd, 9);
    }

    private static string? ModelOf(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("response").GetProperty("body").GetProperty("model").GetString();
    }

    private static (string? CustomId, int Status, string? Model) Read(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var response = root.GetProperty("response");
        return (root.GetProperty("custom_id").GetString(), response.GetProperty("status_code").GetInt32(),
            response.GetProperty("body").GetProperty("model").GetString());
    }

    /// <summary>A stored file's lines, streamed (250,000 answers do not fit a test's memory as strings).</summary>
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> OutputLinesAsync(PipelineHost pipeline, string fileId)
    {
        var pending = new ArrayBufferWriter<byte>(64 * 1024);
        await foreach (var segment in pipeline.Files.ReadContentAsync(fileId, Ct))
        {
            var rest = segment;
            while (rest.Span.IndexOf((byte)'\n') is >= 0 and var end)
            {
                pending.Write(rest.Span[..end]);
                yield return pending.WrittenMemory.ToArray();
                pending.ResetWrittenCount();
                rest = rest[(end + 1)..];
            }
            pending.Write(rest.Span);
        }
        Assert.Equal(0, pending.WrittenCount);
    }
}
