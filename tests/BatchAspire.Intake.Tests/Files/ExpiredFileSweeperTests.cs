using BatchAspire.Core.Files;
using BatchAspire.Intake.Files;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Tests.Files;

public sealed class ExpiredFileSweeperTests(RedisFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnExpiredFileIsKeptThroughTheRetentionAndDeletedAfterIt()
    {
        // A database of its own: a sweep far in the future would delete the files of the tests that share one.
        await using var redis = await fixture.IsolatedAsync(Ct);
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        using var blobs = new TempBlobStore();
        var store = new RedisFileStore(redis.Multiplexer, blobs.Store, clock);
        var tenant = RedisFixture.NewTenant();
        StoredFile file;
        await using (var upload = store.BeginUpload(tenant, new FileUploadLimits(1 << 20, 1 << 16)))
        {
            await upload.ReadFromAsync(new MemoryStream(TestJsonl.File(TestJsonl.Request("a"))), Ct);
            file = await upload.CommitAsync("input.jsonl", FilePurposes.Batch, 3_600, Ct);
        }
        var options = Options.Create(new IntakeOptions { ExpiredFileRetention = TimeSpan.FromHours(48) });
        var sweeper = new ExpiredFileSweeper(store, options, clock, NullLogger<ExpiredFileSweeper>.Instance);

        clock.Now += TimeSpan.FromHours(2);   // expired: hidden from its tenant, its bytes kept for batches that still run
        await sweeper.SweepAsync(Ct);
        Assert.Null(await store.FindAsync(tenant, file.Id, Ct));
        Assert.NotNull(await store.GetAsync(file.Id, Ct));
        Assert.NotEmpty(await blobs.NamesAsync(BlobPrefixes.File(file.Id)));

        clock.Now += TimeSpan.FromHours(48);
        await sweeper.SweepAsync(Ct);
        Assert.Null(await store.GetAsync(file.Id, Ct));
        Assert.Empty(await blobs.NamesAsync(BlobPrefixes.File(file.Id)));   // its bytes go with it
    }
}
