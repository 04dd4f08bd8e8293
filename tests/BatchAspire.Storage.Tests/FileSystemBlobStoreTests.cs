using BatchAspire.Storage.FileSystem;

namespace BatchAspire.Storage.Tests;

/// <summary>The conformance suite on <see cref="FileSystemBlobStore"/>, each test in its own empty folder.</summary>
public sealed class FileSystemBlobStoreTests : BlobStoreConformanceTests
{
    private readonly string _root = Directory.CreateTempSubdirectory("batchaspire-blobs-").FullName;

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new FileSystemBlobStore(new BlobStoreOptions { Root = _root }));

    public override ValueTask DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task An_abandoned_writers_temp_file_is_freed_once_older_than_the_bound_and_not_before()
    {
        // Neither committed nor disposed, as a killed process leaves it.
        var writer = Store.OpenWrite("files/killed");
        await WriteInPiecesAsync(writer, Bytes(3 * MiB, seed: 1));
        var temp = Assert.Single(Directory.GetFiles(Path.Combine(_root, "tmp")));
        Assert.Equal(3 * MiB, new FileInfo(temp).Length);

        Assert.Equal(0, await Store.DeleteAbandonedAsync(TimeSpan.FromHours(1), Ct));
        Assert.True(File.Exists(temp));

        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddHours(-2));
        Assert.Equal(1, await Store.DeleteAbandonedAsync(TimeSpan.FromHours(1), Ct));

        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
        Assert.Null(await Store.GetPropertiesAsync("files/killed", Ct));
    }

    [Fact]
    public async Task Committed_blobs_are_files_under_the_blobs_folder_and_the_temp_folder_is_left_empty()
    {
        await WriteAsync("files/on-disk", Bytes(1000, seed: 2));

        Assert.Equal(1000, new FileInfo(Path.Combine(_root, "blobs", "files", "on-disk")).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
    }
}
