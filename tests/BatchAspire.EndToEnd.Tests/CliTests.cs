using System.Text.Json;
using BatchAspire.Cli;
using Spectre.Console.Testing;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>The <c>batchaspire</c> tool (src/BatchAspire.Cli) run in-process against the running AppHost's intake.</summary>
[Collection(nameof(AppHostCollection))]
public sealed class CliTests(AppHostFixture fixture) : IDisposable
{
    private const string DevelopmentKey = "ba-dev-key";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("batchaspire-cli-e2e-");

    private async Task<(int ExitCode, string Out, string Error)> RunAsync(params string[] args)
    {
        using var output = new TestConsole().Width(400);
        using var error = new TestConsole().Width(400);
        var environment = new Dictionary<string, string> { ["OPENAI_BASE_URL"] = fixture.IntakeBaseUrl.ToString(), ["OPENAI_API_KEY"] = DevelopmentKey };
        var code = await BatchAspireApp.RunAsync(args, new CliHost(output, error, name => environment.GetValueOrDefault(name)), Ct);
        return (code, output.Output.Trim(), error.Output);
    }

    private async Task<string> WriteRequestsAsync(int count, string prefix)
    {
        var path = Path.Combine(_folder.FullName, $"{prefix}.jsonl");
        await using (var file = File.Create(path))
        {
            await JobTests.Requests(count, prefix).CopyToAsync(file, Ct);
        }
        return path;
    }

    [Fact]
    public async Task SubmitWaitStatusListAndDownloadRunAJobThroughTheIntakeAndShowItsCost()
    {
        var file = await WriteRequestsAsync(30, "cli");

        var submit = await RunAsync("submit", file, "--wait", "--poll-interval", "250ms", "--timeout", "3m", "--metadata", "source=cli-test");

        Assert.True(submit.ExitCode == 0, $"{submit.Out}\n{submit.Error}");
        var batchId = submit.Out;
        var progress = submit.Error.Split('\n').Where(l => l.Contains("elapsed", StringComparison.Ordinal)).ToList();
        // The last progress line reads BatchAspire's extra "chunks" and "cost" fields, which plain OpenAI servers do not send.
        Assert.Matches(@"^completed  30/30 \(100%\), done 30, failed 0  elapsed \d+:\d\d  chunks 0 open, 1 done of 1  cost \$[0-9.]+$", progress[^1].Trim());

        var status = await RunAsync("status", batchId, "--json");
        var human = await RunAsync("status", batchId);
        var list = await RunAsync("list", "--limit", "100");
        var download = await RunAsync("download", batchId, "-o", _folder.FullName);

        using var batch = JsonDocument.Parse(status.Out);
        Assert.Equal(batchId, batch.RootElement.GetProperty("id").GetString());
        Assert.Equal("cli-test", batch.RootElement.GetProperty("metadata").GetProperty("source").GetString());
        Assert.Matches(@"cost\s+\$[0-9.]+ \(standard \$[0-9.]+, saved \$[0-9.]+\)", human.Out);
        Assert.Matches(@"chunks\s+0 open, 1 done of 1", human.Out);
        Assert.Contains(batchId, list.Out);
        Assert.True(download.ExitCode == 0, download.Error);
        var saved = Path.Combine(_folder.FullName, $"{batchId}_output.jsonl");
        Assert.Equal(saved, download.Out);
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey);
        var expected = await sdk.Files.DownloadFileAsync(batch.RootElement.GetProperty("output_file_id").GetString()!, Ct);
        Assert.Equal(expected.Value.ToArray(), await File.ReadAllBytesAsync(saved, Ct));
        Assert.Equal(30, File.ReadLines(saved).Count());
    }

    [Fact]
    public async Task CancelStopsAJobAndAnUnknownIdIsTheIntakesNotFoundError()
    {
        var submit = await RunAsync("submit", await WriteRequestsAsync(500, "cli-cancel"));
        Assert.True(submit.ExitCode == 0, submit.Error);

        var cancel = await RunAsync("cancel", submit.Out);
        var unknown = await RunAsync("status", "batch_unknown");

        Assert.True(cancel.ExitCode == 0, cancel.Error);
        Assert.Equal($"{submit.Out} cancelling", cancel.Out);
        var ended = await new IntakeSdk(fixture.IntakeBaseUrl, DevelopmentKey).WaitForEndAsync(submit.Out, TimeSpan.FromMinutes(2), Ct);
        Assert.Equal("cancelled", ended.GetProperty("status").GetString());
        Assert.Equal(4, unknown.ExitCode);
        Assert.Contains("error: The server answered HTTP 404: No batch found with id 'batch_unknown'.", unknown.Error);
    }

    public void Dispose()
    {
        try { _folder.Delete(recursive: true); } catch (IOException) { }
    }
}
