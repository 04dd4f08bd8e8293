using System.Text;
using System.Text.Json;
using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;

namespace BatchAspire.Results.Tests;

/// <summary>
/// Jobs routed to OpenAI-compatible providers under another model name (docs/providers.md, "The provider's model name"):
/// an azure provider (the in-process Sandbox's Azure surface, a deployment name) and an openai one, through submitter,
/// poller and results. What the provider was sent is read back from its input files. Every test owns its Sandbox.
/// </summary>
public sealed class AzureRoutingTests(RedisFixture redis) : SandboxOwningTests
{
    private const string Deployment = "contoso-gpt-5-nano-batch";

    private Dictionary<string, string?> Routed(string kind, string baseUrl, string model, int maxLines) => new()
    {
        ["Providers:routed:Kind"] = kind,
        ["Providers:routed:BaseUrl"] = baseUrl,
        ["Providers:routed:ApiKey"] = SandboxServer.ApiKey,
        ["Providers:routed:MaxLinesPerChunk"] = maxLines.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [$"Routing:Routes:{PipelineJsonl.Model}:0:Provider"] = "routed",
        [$"Routing:Routes:{PipelineJsonl.Model}:0:Model"] = model,
    };

    /// <summary>The lines the provider was given for one of its batches (its input file, read with the pipeline's key).</summary>
    private async Task<string[]> InputLinesAsync(JsonElement batch)
    {
        using var http = new HttpClient { BaseAddress = Sandbox.RootUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", SandboxServer.ApiKey);   // the same key is the same project on either surface
        var text = await http.GetStringAsync($"v1/files/{batch.GetProperty("input_file_id").GetString()}/content", Ct);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Runs a 1,000-line job routed to <paramref name="kind"/> under <paramref name="model"/> and checks what the provider saw.</summary>
    private async Task RunRoutedJobAsync(string kind, string baseUrl, string model)
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox, Routed(kind, baseUrl, model, maxLines: 400));
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(1_000), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var output = await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(1_000, output, []);
        Assert.All(output, line => Assert.Equal(200, ResultFiles.StatusCode(line)));
        // The provider's answer is passed on as it is: its body names the model the provider ran.
        Assert.All(output, line =>
        {
            using var document = JsonDocument.Parse(line);
            Assert.Equal(model, document.RootElement.GetProperty("response").GetProperty("body").GetProperty("model").GetString());
        });
        var chunks = await pipeline.ChunkRecordsAsync(job.JobId);
        Assert.Equal([400L, 400L, 200L], chunks.Select(c => c.Count));
        Assert.All(chunks, c => Assert.Equal("routed", c.Provider));
        // One provider batch per chunk, every line sent once, each exactly as stored but for body.model.
        var batches = await Sandbox.BatchesOfJobAsync(job.JobId, Ct);
        Assert.Equal(3, batches.Count);
        var sent = new List<string>();
        foreach (var batch in batches) sent.AddRange(await InputLinesAsync(batch));
        var expected = Enumerable.Range(0, 1_000)
            .Select(i => PipelineJsonl.Request(i).Replace($"\"model\":\"{PipelineJsonl.Model}\"", $"\"model\":\"{model}\"", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), sent.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task JobRoutedToAnAzureDeploymentIsAnsweredOnceEachWithTheDeploymentNameInEveryLineTheProviderGot() =>
        // Azure's guides write the v1 surface with a trailing slash.
        await RunRoutedJobAsync("azure", new Uri(Sandbox.RootUrl, "openai/v1/").ToString(), Deployment);

    [Fact]
    public async Task JobRoutedToAnOpenAIProviderUnderAnotherModelNameIsAnsweredOnceEachWithThatNameInEveryLine() =>
        await RunRoutedJobAsync("openai", Sandbox.BaseUrl.ToString(), "gpt-5-mini");

    [Fact]
    public async Task AnUnroutedJobsLinesReachTheProviderByteForByteAsStored()
    {
        // The batches wait in validation long enough to read their input files before results deletes them.
        Sandbox.SetFaults(f => f.ValidationDelayMs = 3_000);
        await using var pipeline = await PipelineHost.StartAsync(redis, Sandbox);
        var input = PipelineJsonl.File(300);
        var job = await pipeline.CreateJobAsync(input, Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        IReadOnlyList<JsonElement> batches = [];
        await PipelineHost.WaitUntilAsync(async () => (batches = await Sandbox.BatchesOfJobAsync(job.JobId, Ct)).Count > 0,
            TimeSpan.FromSeconds(30), "the provider batch");
        var sent = await InputLinesAsync(Assert.Single(batches));
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Equal(Encoding.UTF8.GetString(input), string.Concat(sent.Select(line => line + "\n")));
    }
}
