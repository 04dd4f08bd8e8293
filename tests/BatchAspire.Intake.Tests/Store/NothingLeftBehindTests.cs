using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;

namespace BatchAspire.Intake.Tests.Store;

/// <summary>These tests count every key of the server and every blob of the store, so they own both.</summary>
public sealed class NothingLeftBehindTests : IAsyncLifetime
{
    private LocalRedisServer _server = null!;
    private RedisFileStore _store = null!;
    private readonly TempBlobStore _blobs = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await LocalRedisServer.StartAsync(Ct);
        _store = new RedisFileStore(_server.Multiplexer, _blobs.Store, TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _blobs.Dispose();
    }

    private async Task AssertNothingLeftAsync(HashSet<string> keysBefore)
    {
        Assert.Equal(keysBefore, await RedisFixture.KeysAsync(_server));
        Assert.Empty(await _blobs.NamesAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "tmp")));
    }

    [Fact]
    public async Task UploadOverTheSizeLimitLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);
        var bytes = Jsonl.File([.. Jsonl.VariedRequests(10_000)]);

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(bytes.Length - 1, 1 << 20)))
        {
            await Assert.ThrowsAsync<FileTooLargeException>(() => upload.ReadFromAsync(new TricklingStream(bytes, 65_536), Ct));
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task UploadReadButNotCommittedLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20)))
        {
            await upload.ReadFromAsync(new MemoryStream(Jsonl.File([.. Jsonl.VariedRequests(10_000)])), Ct);
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task UncommittedWriterLeavesNothing()
    {
        var before = await RedisFixture.KeysAsync(_server);

        await using (var writer = _store.CreateWriter("t1", "out.jsonl", FilePurposes.BatchOutput, null))
        {
            foreach (var line in Jsonl.VariedRequests(10_000)) await writer.WriteLineAsync(Encoding.UTF8.GetBytes(line), Ct);
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task AnUploadNotYetCommittedIsListedForTheSweepAndNamesNoBlob()
    {
        await using var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20));
        var before = DateTimeOffset.UtcNow;
        await upload.ReadFromAsync(new MemoryStream(Jsonl.File([.. Jsonl.VariedRequests(10_000)])), Ct);

        Assert.Empty(await _blobs.NamesAsync());   // written under temporary names only
        var due = await _server.Multiplexer.GetDatabase().SortedSetScoreAsync(RedisKeys.BlobsToDelete, BlobPrefixes.File(upload.FileId));
        Assert.NotNull(due);   // a writer that dies here leaves its blobs to the sweep, after the bound
        Assert.InRange(due.Value, (before + BlobDeletions.PendingBound).ToUnixTimeMilliseconds(), (DateTimeOffset.UtcNow + BlobDeletions.PendingBound).ToUnixTimeMilliseconds());
    }
}
