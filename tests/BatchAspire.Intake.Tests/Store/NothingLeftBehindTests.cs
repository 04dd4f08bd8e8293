using BatchAspire.Core.Files;

namespace BatchAspire.Intake.Tests.Store;

/// <summary>These tests count every key of the server, so they own one.</summary>
public sealed class NothingLeftBehindTests : IAsyncLifetime
{
    private LocalRedisServer _server = null!;
    private RedisFileStore _store = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await LocalRedisServer.StartAsync(Ct);
        _store = new RedisFileStore(_server.Multiplexer, TimeProvider.System);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task UploadOverTheSizeLimitLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);
        var bytes = Jsonl.File([.. Jsonl.VariedRequests(10_000)]);

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(bytes.Length - 1, 1 << 20)))
        {
            await Assert.ThrowsAsync<FileTooLargeException>(() => upload.ReadFromAsync(new TricklingStream(bytes, 65_536), Ct));
        }

        Assert.Equal(before, await RedisFixture.KeysAsync(_server));
    }

    [Fact]
    public async Task UploadReadButNotCommittedLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20)))
        {
            await upload.ReadFromAsync(new MemoryStream(Jsonl.File([.. Jsonl.VariedRequests(10_000)])), Ct);
        }

        Assert.Equal(before, await RedisFixture.KeysAsync(_server));
    }

    [Fact]
    public async Task UncommittedWriterLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);

        await using (var writer = _store.CreateWriter("t1", "out.jsonl", FilePurposes.BatchOutput, null))
        {
            foreach (var line in Jsonl.VariedRequests(10_000)) await writer.WriteLineAsync(Encoding.UTF8.GetBytes(line), Ct);
        }

        Assert.Equal(before, await RedisFixture.KeysAsync(_server));
    }

    [Fact]
    public async Task StagingKeysCarryATimeToLive()
    {
        await using var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20));
        await upload.ReadFromAsync(new MemoryStream(Jsonl.File([.. Jsonl.VariedRequests(10_000)])), Ct);

        var keys = await RedisFixture.KeysAsync(_server);
        var staging = keys.Where(k => k.StartsWith("ba:staging:", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, staging.Count);   // :data, :lens, :segs
        foreach (var key in staging) Assert.NotNull(await _server.Multiplexer.GetDatabase().KeyTimeToLiveAsync(key));
    }
}
