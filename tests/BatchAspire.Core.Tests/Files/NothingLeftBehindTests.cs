using System.Text;
using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;

namespace BatchAspire.Core.Tests.Files;

/// <summary>These tests count every key of their database and every blob of the store, so they own both.</summary>
public sealed class NothingLeftBehindTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private RedisFileStore _store = null!;
    private readonly TempBlobStore _blobs = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _store = new RedisFileStore(_redis.Multiplexer, _blobs.Store, TimeProvider.System);
    }

    public async ValueTask DisposeAsync()
    {
        await _redis.DisposeAsync();
        _blobs.Dispose();
    }

    private async Task AssertNothingLeftAsync(HashSet<string> keysBefore)
    {
        Assert.Equal(keysBefore, await _redis.KeysAsync());
        Assert.Empty(await _blobs.NamesAsync());
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_blobs.Root, "tmp")));
    }

    [Fact]
    public async Task UploadOverTheSizeLimitLeavesNothing()
    {
        var before = await _redis.KeysAsync();
        var bytes = TestJsonl.File([.. TestJsonl.VariedRequests(10_000)]);

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(bytes.Length - 1, 1 << 20)))
        {
            await Assert.ThrowsAsync<FileTooLargeException>(() => upload.ReadFromAsync(new TricklingStream(bytes, 65_536), Ct));
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task UploadReadButNotCommittedLeavesNothing()
    {
        var before = await _redis.KeysAsync();

        await using (var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20)))
        {
            await upload.ReadFromAsync(new MemoryStream(TestJsonl.File([.. TestJsonl.VariedRequests(10_000)])), Ct);
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task UncommittedWriterLeavesNothing()
    {
        var before = await _redis.KeysAsync();

        await using (var writer = _store.CreateWriter("t1", "out.jsonl", FilePurposes.BatchOutput, null))
        {
            foreach (var line in TestJsonl.VariedRequests(10_000)) await writer.WriteLineAsync(Encoding.UTF8.GetBytes(line), Ct);
        }

        await AssertNothingLeftAsync(before);
    }

    [Fact]
    public async Task AnUploadNotYetCommittedIsListedForTheSweepAndNamesNoBlob()
    {
        await using var upload = _store.BeginUpload("t1", new FileUploadLimits(1L << 30, 1 << 20));
        var before = DateTimeOffset.UtcNow;
        await upload.ReadFromAsync(new MemoryStream(TestJsonl.File([.. TestJsonl.VariedRequests(10_000)])), Ct);

        Assert.Empty(await _blobs.NamesAsync());   // written under temporary names only
        var due = await _redis.Db.SortedSetScoreAsync(RedisKeys.BlobsToDelete, BlobPrefixes.File(upload.FileId));
        Assert.NotNull(due);   // a writer that dies here leaves its blobs to the sweep, after the bound
        Assert.InRange(due.Value, (before + BlobDeletions.PendingBound).ToUnixTimeMilliseconds(), (DateTimeOffset.UtcNow + BlobDeletions.PendingBound).ToUnixTimeMilliseconds());
    }
}
