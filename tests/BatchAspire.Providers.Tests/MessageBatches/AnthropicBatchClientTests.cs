using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BatchAspire.Core.Results;
using BatchAspire.Providers.MessageBatches;
using BatchAspire.Providers.Tests.Support;
using BatchAspire.Core.Translation;
using BatchAspire.Providers.Translation;

namespace BatchAspire.Providers.Tests.MessageBatches;

/// <summary>The Anthropic batch client (the official Anthropic .NET SDK) against the Sandbox's Message Batches API.</summary>
public sealed class AnthropicBatchClientTests(SandboxServer sandbox) : IClassFixture<SandboxServer>, IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await sandbox.SetFaultsAsync(new { }, Ct);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private AnthropicBatchClient NewClient() => AnthropicBatchClient.Create(sandbox.RootUrl, "sk-ant-" + Guid.NewGuid().ToString("N"));

    /// <summary>The seed guide's lines, translated for Anthropic with the line index as custom_id.</summary>
    private static List<ReadOnlyMemory<byte>> SeedRequests(string? extraLine = null)
    {
        var lines = SeedReviews.Jsonl().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (extraLine is not null) lines.Add(extraLine);
        var requests = new List<ReadOnlyMemory<byte>>();
        for (var i = 0; i < lines.Count; i++)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                using var line = JsonDocument.Parse(lines[i]);
                Assert.True(AnthropicRequestTranslator.TryTranslate(line.RootElement, writer, out var error, model: "claude-haiku-4-5", customId: $"l{i}"), error);
            }
            requests.Add(buffer.WrittenMemory);
        }
        return requests;
    }

    private static async Task<AnthropicBatchSnapshot> WaitEndedAsync(AnthropicBatchClient client, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var batch = await client.RetrieveAsync(id, Ct);
            if (batch.Ended) return batch;
            Assert.True(DateTime.UtcNow < deadline, $"batch {id} did not end in 30 s: {batch}");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task<List<(TranslatedResult Result, JsonNode Line)>> ResultsAsync(AnthropicBatchClient client, string id)
    {
        var lines = new List<(TranslatedResult, JsonNode)>();
        await foreach (var line in client.ResultsAsync(id, anthropicId => $"request-{anthropicId[1..]}", Ct))
        {
            Assert.True(ResultLine.TryParse(line.OpenAILine.Span, out _), Encoding.UTF8.GetString(line.OpenAILine.Span));
            lines.Add((line.Result, JsonNode.Parse(line.OpenAILine.Span)!));
        }
        return lines;
    }

    [Fact]
    public async Task TranslatedSeedLinesRunAtAnthropicsSandboxAndComeBackAsOpenAIChatCompletionLines()
    {
        var client = NewClient();
        var truncated = """{"custom_id":"request-5","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-5-nano","max_tokens":1,"messages":[{"role":"user","content":"a reply longer than one token"}]}}""";

        var created = await client.CreateAsync(SeedRequests(truncated), Ct);

        Assert.StartsWith("msgbatch_", created.Id);
        Assert.Equal(("in_progress", 6L), (created.ProcessingStatus, created.Processing));
        var ended = await WaitEndedAsync(client, created.Id);
        Assert.Equal(6, ended.Succeeded);
        var results = await ResultsAsync(client, created.Id);
        Assert.Equal(6, results.Count);
        for (var i = 0; i < SeedReviews.Texts.Count; i++)
        {
            var (result, line) = results.Single(r => r.Result.CustomId == $"l{i}");
            Assert.Equal(AnthropicResultKind.Succeeded, result.Kind);
            Assert.Equal($"request-{i}", line["custom_id"]!.GetValue<string>());
            var body = line["response"]!["body"]!;
            Assert.Equal(SeedReviews.ExpectedSentiments[i], body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            Assert.Equal(("stop", "claude-haiku-4-5"), (body["choices"]![0]!["finish_reason"]!.GetValue<string>(), body["model"]!.GetValue<string>()));
            Assert.True(body["usage"]!["prompt_tokens"]!.GetValue<long>() > 0);
        }
        var cut = results.Single(r => r.Result.CustomId == "l5").Line["response"]!["body"]!;
        Assert.Equal("length", cut["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(1, cut["usage"]!["completion_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task ACancelledBatchEndsWithBatchCancelledLinesThatResultsWouldRetry()
    {
        await sandbox.SetFaultsAsync(new { validation_delay_ms = 30_000 }, Ct);
        var client = NewClient();
        var created = await client.CreateAsync(SeedRequests(), Ct);

        var canceling = await client.CancelAsync(created.Id, Ct);

        Assert.Contains(canceling.ProcessingStatus, new[] { "canceling", "ended" });
        var ended = await WaitEndedAsync(client, created.Id);
        Assert.Equal(5, ended.Canceled);
        var results = await ResultsAsync(client, created.Id);
        Assert.Equal(5, results.Count);
        foreach (var (result, line) in results)
        {
            Assert.Equal(AnthropicResultKind.Canceled, result.Kind);
            Assert.Equal("batch_cancelled", line["error"]!["code"]!.GetValue<string>());
            Assert.True(ResultLine.TryParse(Encoding.UTF8.GetBytes(line.ToJsonString()), out var info));
            Assert.Equal(ResultOutcome.Transient, ResultLine.Classify(info));
        }
    }

    [Fact]
    public async Task LinesTheSandboxFailsComeBackAsRetryableOpenAIErrorLines()
    {
        await sandbox.SetFaultsAsync(new { line_fail_500_rate = 1.0 }, Ct);
        var client = NewClient();
        var created = await client.CreateAsync(SeedRequests(), Ct);

        var ended = await WaitEndedAsync(client, created.Id);

        Assert.Equal(5, ended.Errored);
        var results = await ResultsAsync(client, created.Id);
        Assert.All(results, r =>
        {
            Assert.Equal(AnthropicResultKind.Errored, r.Result.Kind);
            Assert.Equal(500, r.Line["response"]!["status_code"]!.GetValue<int>());
            Assert.Equal("api_error", r.Line["response"]!["body"]!["error"]!["type"]!.GetValue<string>());
        });
    }
}
