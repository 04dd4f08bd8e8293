using BatchAspire.Cli.Tests.Support;

namespace BatchAspire.Cli.Tests;

/// <summary>Each failure gives one clear line on the error console (no stack trace) and its documented exit code.</summary>
public sealed class ErrorTests(SandboxServer sandbox) : IClassFixture<SandboxServer>, IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Requests _requests = new();
    private readonly string _apiKey = SandboxServer.NewApiKey();

    private Task<CliResult> RunAsync(params string[] args) => CliRun.RunAsync(CliRun.Environment(sandbox.BaseUrl, _apiKey), Ct, args);

    private static void AssertOneErrorLine(CliResult result, int exitCode, string text)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(text, line);
        Assert.DoesNotContain("   at ", result.Out + result.Error);
    }

    [Fact]
    public async Task NoApiKeyIsAUsageErrorNamingTheVariable()
    {
        var result = await CliRun.RunAsync(new Dictionary<string, string> { ["OPENAI_BASE_URL"] = sandbox.BaseUrl.ToString() }, Ct, "list");

        AssertOneErrorLine(result, 2, "No API key: set OPENAI_API_KEY or pass --api-key.");
    }

    [Fact]
    public async Task OptionsTakePrecedenceOverTheEnvironment()
    {
        var environment = new Dictionary<string, string> { ["OPENAI_BASE_URL"] = "http://127.0.0.1:1/v1", ["OPENAI_API_KEY"] = "" };

        var result = await CliRun.RunAsync(environment, Ct, "list", "--base-url", sandbox.BaseUrl.ToString(), "--api-key", _apiKey);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task AnUnreachableServerIsNamedWithExitCodeFive()
    {
        var deadUrl = $"http://127.0.0.1:{FreePort.Next()}/v1";

        var result = await CliRun.RunAsync(CliRun.Environment(new Uri(deadUrl), _apiKey), Ct, "status", "batch_x", "--max-retries", "0");

        AssertOneErrorLine(result, 5, $"Cannot reach the server at {deadUrl}: ");
    }

    [Fact]
    public async Task AnUnknownBatchIdShowsTheServersMessageWithExitCodeFour()
    {
        var result = await RunAsync("status", "batch_doesnotexist");

        AssertOneErrorLine(result, 4, "The server answered HTTP 404: No batch found with id 'batch_doesnotexist'.");
    }

    [Fact]
    public async Task AnApiErrorShowsTheServersMessageAndCode()
    {
        var file = _requests.Write(2, "bad-endpoint");

        var result = await RunAsync("submit", file, "--endpoint", "/v1/nowhere");

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains("error: The server answered HTTP 400: ", result.Error);
        Assert.Contains("invalid_request_error", result.Error);
        Assert.Empty(result.Out);
    }

    [Theory]
    [InlineData("{\"custom_id\":\"a\"}\n{\"custom_id\": \"b\",\n", "line 2 is not valid JSON")]
    [InlineData("{\"custom_id\":\"a\"}\n[1,2]\n", "line 2 is JSON but not an object")]
    [InlineData("{\"custom_id\":\"a\"}\n\n{\"custom_id\":\"b\"}\n", "line 2 is empty")]
    [InlineData("{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n{} {}\n", "line 3 is not valid JSON")]
    public async Task AFileThatIsNotJsonlIsRefusedWithItsLineNumberBeforeAnythingIsUploaded(string content, string expected)
    {
        var file = _requests.WriteText("broken.jsonl", content);

        var result = await RunAsync("submit", file);

        AssertOneErrorLine(result, 3, $"{file} is not valid JSONL: {expected}");
        Assert.Equal(0, await new ServerView(sandbox.BaseUrl, _apiKey).FileCountAsync(Ct));
    }

    [Fact]
    public async Task AMissingFileIsRefusedWithExitCodeThree()
    {
        var result = await RunAsync("submit", Path.Combine(_requests.Folder, "missing.jsonl"));

        AssertOneErrorLine(result, 3, "Cannot read ");
    }

    [Fact]
    public async Task BadArgumentsAreAUsageError()
    {
        var badMetadata = await RunAsync("submit", "x.jsonl", "--metadata", "novalue");
        var unknown = await RunAsync("status");

        AssertOneErrorLine(badMetadata, 2, "--metadata 'novalue' is not KEY=VALUE.");
        Assert.Equal(2, unknown.ExitCode);
        Assert.StartsWith("error: ", unknown.Error);
    }

    public void Dispose() => _requests.Dispose();
}
