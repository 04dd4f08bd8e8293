using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>The intake's blob store on a small real filesystem that fills up mid-upload.</summary>
public sealed class FullDiskTests(RedisFixture fixture) : IAsyncLifetime
{
    private const long DiskBytes = 2 * 1024 * 1024;
    private SmallDisk _disk = null!;
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _disk = SmallDisk.Mount(DiskBytes);
        _redis = await fixture.IsolatedAsync(Ct);
        _app = new IntakeApp(_redis.ConnectionString, blobRoot: _disk.Path);
        _ = _app.Server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
        _disk.Dispose();
    }

    [Fact]
    public async Task AnUploadThatFillsTheDiskAnswers507AndLeavesNothingAndOneThatFitsThenWorks()
    {
        using var client = _app.CreateClient(_app.NewTenant().Key);
        var big = TestJsonl.File([.. TestJsonl.VariedRequests(20_000)]);
        Assert.True(big.Length > DiskBytes);
        var before = await _app.StoredStateAsync(_redis);

        var error = await ErrorAsync(await client.PostAsync("/v1/files", PythonUpload(big), Ct), 507);

        Assert.Equal("storage_full", error["code"].Str());
        Assert.Equal("server_error", error["type"].Str());
        Assert.Equal(before, await _app.StoredStateAsync(_redis));
        var listed = await OkJsonAsync(await client.GetAsync("/v1/files", Ct));
        Assert.Empty(listed["data"]!.AsArray());
        // What the refused upload wrote was freed at once: the disk has room for a file that fits.
        await UploadAsync(client, TestJsonl.File([.. TestJsonl.VariedRequests(2_000)]));
    }
}
