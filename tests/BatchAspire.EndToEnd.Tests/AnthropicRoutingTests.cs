using System.Text;
using BatchAspire.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// One AppHost whose route table sends the seed guide's model (gpt-5-nano) to a provider of kind anthropic: the
/// Sandbox's Message Batches API, as claude-haiku-4-5. Its own collection, started once for these tests, because routing
/// the seed's model in the shared AppHost would send every other end-to-end test to Anthropic too.
/// </summary>
public sealed class RoutedAppHostFixture : IAsyncLifetime
{
    public const string Model = "gpt-5-nano";

    public DistributedApplication App { get; private set; } = null!;

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("batchaspire-e2e-routed-").FullName;

    public async ValueTask InitializeAsync() =>
        App = await AppHostFixture.StartAsync(DataDirectory,
            ["Results:MaxAttempts=8", "Submitter:RefusalDelay=00:00:01", "Submitter:MaxRefusalDelay=00:00:04",
             "Providers:claude:Kind=anthropic",
             $"Routing:Routes:{Model}:0:Provider=claude",
             $"Routing:Routes:{Model}:0:Model=claude-haiku-4-5"]);

    public HttpClient CreateIntakeClient() => App.CreateHttpClient(BatchAspire.Contracts.ResourceNames.Intake, "http");

    public Uri IntakeBaseUrl => new(App.GetEndpoint(BatchAspire.Contracts.ResourceNames.Intake, "http"), "v1");

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { }
    }
}

[CollectionDefinition(nameof(RoutedAppHostCollection))]
public sealed class RoutedAppHostCollection : ICollectionFixture<RoutedAppHostFixture>;

/// <summary>The seed guide's examples, unchanged, through the intake with their model routed to Anthropic (the Sandbox).</summary>
[Collection(nameof(RoutedAppHostCollection))]
public sealed class AnthropicRoutingTests(RoutedAppHostFixture fixture)
{
    private const string DevelopmentKey = "ba-dev-key";

    [Fact]
    public async Task SeedPythonExampleRoutedToAnthropicPrintsOneSentimentPerReview()
    {
        var client = new PythonSdkWire(fixture.CreateIntakeClient(), fixture.IntakeBaseUrl, DevelopmentKey);

        var printed = await SeedPythonExamplesTests.RunTextClassificationExampleAsync(client, TestContext.Current.CancellationToken);

        for (var i = 0; i < SeedReviews.Texts.Count; i++) Assert.Contains(SeedReviews.Texts[i], printed);
        TestContext.Current.SendDiagnosticMessage(printed);
    }

    [Fact]
    public async Task SeedNodeStepsRoutedToAnthropicPrintOneAnswerPerReview()
    {
        var ct = TestContext.Current.CancellationToken;
        var sdk = await NodeSdk.EnsureInstalledAsync(ct);
        var work = Directory.CreateTempSubdirectory("seed-node-routed-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(work.FullName, "batch_requests.jsonl"), SeedReviews.Jsonl(), ct);

            var (exit, stdout, stderr) = await NodeSdk.RunAsync(Path.Combine(sdk, "seed-node.mjs"), [], work.FullName,
                fixture.IntakeBaseUrl, "openai", ct, apiKey: DevelopmentKey);

            Assert.True(exit == 0, $"node exited {exit}\n{stdout}\n{stderr}");
            var output = stdout.Split('\n', StringSplitOptions.TrimEntries);
            Assert.Contains("Batch completed!", output);
            for (var i = 0; i < SeedReviews.Texts.Count; i++) Assert.Contains($"request-{i}: {SeedReviews.ExpectedSentiments[i]}", output);
            TestContext.Current.SendDiagnosticMessage(stdout);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AnUntranslatableLineIsRefusedWithItsLineNumber()
    {
        var ct = TestContext.Current.CancellationToken;
        var client = new PythonSdkWire(fixture.CreateIntakeClient(), fixture.IntakeBaseUrl, DevelopmentKey);
        var file = SeedReviews.Jsonl().TrimEnd('\n') + "\n" +
            """{"custom_id":"request-tools","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-5-nano","messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}}""" + "\n";

        var uploaded = await client.CreateFileAsync("batch_requests.jsonl", Encoding.UTF8.GetBytes(file), ct);
        var batch = await client.CreateBatchAsync(uploaded["id"]!.GetValue<string>(), "/v1/chat/completions", ct);

        Assert.Equal("failed", batch["status"]!.GetValue<string>());
        var error = Assert.Single(batch["errors"]!["data"]!.AsArray())!;
        Assert.Equal("invalid_value", error["code"]!.GetValue<string>());
        Assert.Equal("body.tools", error["param"]!.GetValue<string>());
        Assert.Equal(SeedReviews.Texts.Count + 1, error["line"]!.GetValue<int>());
    }
}
