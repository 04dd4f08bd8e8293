using System.Net.Http.Headers;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>An intake with a 1 MB upload limit and its own Redis database and blob store, so every key and blob can be counted.</summary>
public sealed class LimitsAndLeaksTests(RedisFixture fixture) : IAsyncLifetime
{
    private const int Limit = 1_000_000;
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _app = new IntakeApp(_redis.ConnectionString, new Dictionary<string, string?> { ["Intake:MaxUploadBytes"] = Limit.ToString() });
        _client = _app.CreateClient(_app.NewTenant().Key);
        await OkJsonAsync(await _client.GetAsync("/v1/files", Ct));   // warm up: connections and scripts exist before counting
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task UploadOverTheLimitAnswersFileIsTooLargeAndLeavesNothing()
    {
        var before = await StateAsync();
        var bytes = TestJsonl.File([.. TestJsonl.VariedRequests(5_000)]);
        Assert.True(bytes.Length > Limit);
        var content = new StreamContent(new TricklingStream(PythonBody(bytes, out var type), 65_536));
        content.Headers.ContentType = type;

        var error = await ErrorAsync(await _client.PostAsync("/v1/files", content, Ct), 400);

        Assert.Equal("File is too large.", error["message"].Str());
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task UploadAnnouncedOverTheLimitIsRefusedBeforeReading()
    {
        var error = await ErrorAsync(await _client.PostAsync("/v1/files", PythonUpload(new byte[Limit + 2_000_000]), Ct), 400);

        Assert.Equal("File is too large.", error["message"].Str());
    }

    [Theory]
    [InlineData("data.txt", "batch")]
    [InlineData("x.jsonl", "nonsense")]
    public async Task RejectedUploadLeavesNothing(string filename, string purpose)
    {
        var before = await StateAsync();

        await ErrorAsync(await _client.PostAsync("/v1/files", FileFirst(TestJsonl.File([.. TestJsonl.VariedRequests(1_000)]), filename, purpose), Ct), 400);

        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task UploadWithoutPurposeLeavesNothing()
    {
        var before = await StateAsync();
        var form = new MultipartFormDataContent { { new ByteArrayContent(TestJsonl.File([.. TestJsonl.VariedRequests(1_000)])), "file", "x.jsonl" } };

        await ErrorAsync(await _client.PostAsync("/v1/files", form, Ct), 400);

        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task UploadBrokenOffMidwayLeavesNothing()
    {
        var before = await StateAsync();
        var body = PythonBody(TestJsonl.File([.. TestJsonl.VariedRequests(2_000)]), out var type);
        var content = new StreamContent(new FailingStream(body, failAfter: body.Length / 2));
        content.Headers.ContentType = type;

        await Assert.ThrowsAnyAsync<Exception>(() => _client.PostAsync("/v1/files", content, Ct));

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await StateAsync() != before && DateTime.UtcNow < deadline) await Task.Delay(50, Ct);
        Assert.Equal(before, await StateAsync());
    }

    [Fact]
    public async Task MalformedMultipartAnswers400AndLeavesNothing()
    {
        var before = await StateAsync();
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jsonl\"\r\n\r\n{\"a\":1}\n"));
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");

        await ErrorAsync(await _client.PostAsync("/v1/files", content, Ct), 400);

        Assert.Equal(before, await StateAsync());
    }


    private static MultipartFormDataContent FileFirst(byte[] file, string filename, string purpose)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(file), "file", filename);
        form.Add(new StringContent(purpose), "purpose");
        return form;
    }

    private sealed class FailingStream(byte[] data, int failAfter) : Stream
    {
        private int _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_position >= failAfter) throw new IOException("The client went away.");
            var n = Math.Min(Math.Min(count, 8_192), failAfter - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private Task<string> StateAsync() => _app.StoredStateAsync(_redis);
}
