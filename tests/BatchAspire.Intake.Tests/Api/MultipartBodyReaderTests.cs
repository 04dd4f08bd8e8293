using System.IO.Pipelines;
using BatchAspire.Intake.Files;

namespace BatchAspire.Intake.Tests.Api;

public sealed class MultipartBodyReaderTests
{
    private const string Boundary = "XyZ-123=abc";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // Content that begins a delimiter without finishing it, in the middle and at the very end of the part.
    private static readonly string FileContent =
        "{\"custom_id\":\"a\"}\r\n--XyZ-12\r\n-\r\n--XyZ-123=ab\n{\"custom_id\":\"b\"}\r\n-";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(17)]
    [InlineData(1 << 20)]
    public async Task PartsComeOutWholeHoweverTheBodyIsSplitIntoReads(int bytesPerRead)
    {
        var body = "a preamble to ignore\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + $"--{Boundary}  \t\r\ncontent-disposition: form-data; name=\"file\"; filename=\"x.jsonl\"\r\nContent-Type: application/octet-stream\r\n\r\n{FileContent}\r\n"
            + $"--{Boundary}\r\n\r\nno headers\r\n"
            + $"--{Boundary}--\r\nan epilogue to ignore";

        var parts = await ReadAllAsync(body, bytesPerRead);

        Assert.Equal(
        [
            ("form-data; name=\"purpose\"", "batch"),
            ("form-data; name=\"file\"; filename=\"x.jsonl\"", FileContent),
            (null, "no headers"),
        ], parts);
    }

    [Fact]
    public async Task APartLeftUnreadIsSkippedToReachTheNext()
    {
        var reader = ReaderOf($"--{Boundary}\r\nContent-Disposition: form-data; name=\"skip\"\r\n\r\n{new string('x', 100_000)}\r\n"
            + $"--{Boundary}\r\nContent-Disposition: form-data; name=\"keep\"\r\n\r\nkept\r\n--{Boundary}--", 4096);

        Assert.NotNull(await reader.ReadNextPartAsync(Ct));
        var second = (await reader.ReadNextPartAsync(Ct))!;

        Assert.Equal("form-data; name=\"keep\"", second.ContentDisposition);
        Assert.Equal("kept", await new StreamReader(second.Body).ReadToEndAsync(Ct));
        Assert.Null(await reader.ReadNextPartAsync(Ct));
    }

    [Fact]
    public async Task ABodyThatEndsInsideAPartIsAnIOError()
    {
        var reader = ReaderOf($"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jsonl\"\r\n\r\n{{\"a\":1}}\n", 5);
        var part = (await reader.ReadNextPartAsync(Ct))!;

        await Assert.ThrowsAsync<IOException>(() => new StreamReader(part.Body).ReadToEndAsync(Ct));
    }

    [Fact]
    public async Task ABodyWithoutAnyBoundaryIsAnIOError()
    {
        await Assert.ThrowsAsync<IOException>(() => ReaderOf("no boundary anywhere in this body", 7).ReadNextPartAsync(Ct));
    }

    [Theory]
    [InlineData("--XyZ-123=abc garbage\r\n\r\n")]
    [InlineData("--XyZ-123=abc\r\nNo colon in this header\r\n\r\nx\r\n--XyZ-123=abc--")]
    public async Task MalformedFramingIsInvalidData(string body)
    {
        await Assert.ThrowsAsync<InvalidDataException>(() => ReaderOf(body, 7).ReadNextPartAsync(Ct));
    }

    [Fact]
    public async Task HeadersOverTheLimitAreRejected()
    {
        var reader = ReaderOf($"--{Boundary}\r\nX-Long: {new string('h', 20_000)}\r\n\r\nx\r\n--{Boundary}--", 1000);

        await Assert.ThrowsAsync<InvalidDataException>(() => reader.ReadNextPartAsync(Ct));
    }

    private static MultipartBodyReader ReaderOf(string body, int bytesPerRead) =>
        new(PipeReader.Create(new TricklingStream(Encoding.UTF8.GetBytes(body), bytesPerRead)), Boundary);

    private static async Task<List<(string?, string)>> ReadAllAsync(string body, int bytesPerRead)
    {
        var reader = ReaderOf(body, bytesPerRead);
        var parts = new List<(string?, string)>();
        while (await reader.ReadNextPartAsync(Ct) is { } part)
        {
            // Reads of odd sizes, so part ends and read ends fall everywhere.
            var bytes = new MemoryStream();
            var buffer = new byte[5];
            int read;
            while ((read = await part.Body.ReadAsync(buffer, Ct)) > 0) bytes.Write(buffer, 0, read);
            parts.Add((part.ContentDisposition, Encoding.UTF8.GetString(bytes.ToArray())));
        }
        return parts;
    }
}
