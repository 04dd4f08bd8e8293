using System.Text;
using BatchAspire.Cli.Input;
using BatchAspire.Cli.Tests.Support;

namespace BatchAspire.Cli.Tests;

public sealed class JsonlCheckTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Requests _requests = new();

    [Fact]
    public async Task LinesLongerThanTheReadBlockAndCrlfEndingsAndTrailingBlankLinesAreAccepted()
    {
        var longLine = "{\"custom_id\":\"long\",\"body\":{\"text\":\"" + new string('x', 300_000) + "\"}}";
        var file = _requests.WriteText("mixed.jsonl", "{\"custom_id\":\"a\"}\r\n" + longLine + "\r\n{\"custom_id\":\"b\"}\n\n\r\n");

        Assert.Equal(3, await JsonlCheck.CheckAsync(file, Ct));
    }

    [Fact]
    public async Task ABrokenLineAfterALongOneIsReportedWithItsOwnNumber()
    {
        var longLine = "{\"text\":\"" + new string('y', 200_000) + "\"}";
        var file = _requests.WriteText("late.jsonl", string.Join('\n', Enumerable.Repeat(longLine, 3)) + "\n{\"unterminated\":\n");

        var error = await Assert.ThrowsAsync<CliException>(() => JsonlCheck.CheckAsync(file, Ct));

        Assert.Equal(ExitCodes.BadInputFile, error.ExitCode);
        Assert.Contains("line 4 is not valid JSON", error.Message);
    }

    [Fact]
    public async Task InvalidUtf8IsNotValidJson()
    {
        var path = Path.Combine(_requests.Folder, "latin1.jsonl");
        await File.WriteAllBytesAsync(path, [.. Encoding.ASCII.GetBytes("{\"text\":\""), 0xE9, .. Encoding.ASCII.GetBytes("\"}\n")], Ct);

        var error = await Assert.ThrowsAsync<CliException>(() => JsonlCheck.CheckAsync(path, Ct));

        Assert.Contains("line 1 is not valid UTF-8", error.Message);
    }

    [Fact]
    public async Task AFileWithOnlyBlankLinesHoldsNoRequests()
    {
        var file = _requests.WriteText("blank.jsonl", "\n\n");

        var error = await Assert.ThrowsAsync<CliException>(() => JsonlCheck.CheckAsync(file, Ct));

        Assert.Contains("holds no requests", error.Message);
    }

    public void Dispose() => _requests.Dispose();
}
