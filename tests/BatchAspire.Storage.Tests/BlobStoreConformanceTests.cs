using BatchAspire.Storage;

namespace BatchAspire.Storage.Tests;

/// <summary>
/// What every <see cref="IBlobStore"/> backend must do, run once per backend by a subclass that builds a fresh, empty
/// store for each test. Backend-only behaviour (outages, leftovers of killed writers) lives in the subclasses.
/// </summary>
public abstract class BlobStoreConformanceTests : IAsyncLifetime
{
    protected const int MiB = 1024 * 1024;

    /// <summary>More than two 4 MiB blocks and a ragged tail: exercises block boundaries and the last short block.</summary>
    protected const int MultiBlockSize = 9 * MiB + 123;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected IBlobStore Store { get; private set; } = null!;

    protected abstract Task<IBlobStore> CreateStoreAsync();

    public async ValueTask InitializeAsync() => Store = await CreateStoreAsync();

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(4 * MiB)]
    [InlineData(MultiBlockSize)]
    public async Task A_blob_written_in_pieces_reads_back_byte_for_byte(int size)
    {
        var data = Bytes(size, seed: size);

        await WriteAsync("files/whole", data);

        Assert.Equal(data, await ReadAsync("files/whole"));
    }

    [Fact]
    public async Task An_empty_blob_commits_and_reads_back_as_zero_bytes()
    {
        await WriteAsync("files/empty", []);

        Assert.Equal(0, (await Store.GetPropertiesAsync("files/empty", Ct))?.Length);
        Assert.Empty(await ReadAsync("files/empty"));
        Assert.Empty(await ReadAsync("files/empty", offset: 0, length: 10));
    }

    [Fact]
    public async Task The_properties_of_a_committed_blob_give_its_name_length_and_a_recent_time()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await WriteAsync("files/props", Bytes(12345, seed: 1));

        var properties = await Store.GetPropertiesAsync("files/props", Ct);

        Assert.NotNull(properties);
        Assert.Equal("files/props", properties.Name);
        Assert.Equal(12345, properties.Length);
        Assert.InRange(properties.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Theory]
    [InlineData(0, 100)]                                 // the start
    [InlineData(4 * MiB - 10, 20)]                       // the middle, across a block boundary
    [InlineData(1000, null)]                             // from an offset to the end
    [InlineData(MultiBlockSize - 5, 100)]                // a length past the end stops at the end
    [InlineData(MultiBlockSize, null)]                   // exactly at the end: nothing
    [InlineData(MultiBlockSize + 10, 5)]                 // past the end: nothing
    [InlineData(77, 0)]                                  // zero bytes asked: nothing
    public async Task A_range_read_returns_exactly_the_bytes_of_that_range(int offset, int? length)
    {
        var data = Bytes(MultiBlockSize, seed: 7);
        await WriteAsync("files/ranged", data);

        var read = await ReadAsync("files/ranged", offset, length);

        var start = Math.Min(offset, data.Length);
        var end = length is { } l ? Math.Min(data.Length, offset + l) : data.Length;
        Assert.Equal(data.AsSpan(start, end - start).ToArray(), read);
    }

    [Fact]
    public async Task Reading_a_blob_that_was_never_written_throws_BlobNotFound()
    {
        var missing = await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/never", ct: Ct));
        Assert.Equal("files/never", missing.Name);
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/never", 10, 0, Ct));
        Assert.Null(await Store.GetPropertiesAsync("files/never", Ct));
    }

    [Fact]
    public async Task A_deleted_blob_is_gone_and_deleting_it_again_returns_false()
    {
        await WriteAsync("files/doomed", Bytes(2000, seed: 3));
        await WriteAsync("files/kept", Bytes(2000, seed: 4));

        Assert.True(await Store.DeleteAsync("files/doomed", Ct));

        Assert.Null(await Store.GetPropertiesAsync("files/doomed", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/doomed", ct: Ct));
        Assert.Equal(["files/kept"], await NamesAsync("files/"));
        Assert.False(await Store.DeleteAsync("files/doomed", Ct));
        Assert.False(await Store.DeleteAsync("files/never-written", Ct));
    }

    [Fact]
    public async Task Nothing_is_visible_under_the_name_before_commit()
    {
        var data = Bytes(MultiBlockSize, seed: 11);
        await using var writer = Store.OpenWrite("files/pending");
        await WriteInPiecesAsync(writer, data);

        Assert.Equal(data.Length, writer.Length);
        Assert.Null(await Store.GetPropertiesAsync("files/pending", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/pending", ct: Ct));
        Assert.Empty(await NamesAsync("files/"));

        await writer.CommitAsync(Ct);

        Assert.Equal(data.Length, (await Store.GetPropertiesAsync("files/pending", Ct))?.Length);
        Assert.Equal(data, await ReadAsync("files/pending"));
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(MultiBlockSize)]
    public async Task A_writer_disposed_without_commit_leaves_nothing(int size)
    {
        await using (var writer = Store.OpenWrite("files/dropped"))
        {
            await WriteInPiecesAsync(writer, Bytes(size, seed: 5));
        }

        Assert.Null(await Store.GetPropertiesAsync("files/dropped", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/dropped", ct: Ct));
        Assert.Empty(await NamesAsync(""));
        // Dispose cleaned up itself: there is nothing left for the sweep either.
        Assert.Equal(0, await Store.DeleteAbandonedAsync(TimeSpan.Zero, Ct));
    }

    [Fact]
    public async Task A_writer_abandoned_mid_write_leaves_nothing_under_its_name()
    {
        // Never committed nor disposed: what a process killed mid-write leaves behind.
        var writer = Store.OpenWrite("files/killed");
        await WriteInPiecesAsync(writer, Bytes(MultiBlockSize, seed: 13));

        Assert.Null(await Store.GetPropertiesAsync("files/killed", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/killed", ct: Ct));
        Assert.Empty(await NamesAsync(""));
    }

    [Fact]
    public async Task Concurrent_writers_of_different_blobs_each_commit_their_own_bytes()
    {
        var blobs = Enumerable.Range(0, 8).Select(i => ($"runs/r{i}", Bytes(MiB / 2 + i * 700_001, seed: 100 + i))).ToArray();

        await Task.WhenAll(blobs.Select(b => Task.Run(() => WriteAsync(b.Item1, b.Item2), Ct)));

        foreach (var (name, data) in blobs)
        {
            Assert.Equal(data, await ReadAsync(name));
        }
        Assert.Equal(blobs.Select(b => b.Item1).Order(StringComparer.Ordinal), await NamesAsync("runs/"));
    }

    [Fact]
    public async Task Listing_by_prefix_returns_exactly_the_committed_blobs_under_it()
    {
        string[] names = ["a/1", "a/2", "a/sub/3", "ab/4", "b/5"];
        for (var i = 0; i < names.Length; i++) await WriteAsync(names[i], Bytes(10 + i, seed: i));
        await using var pending = Store.OpenWrite("a/pending");
        await pending.WriteAsync(Bytes(10, seed: 9), Ct);

        Assert.Equal(["a/1", "a/2", "a/sub/3"], await NamesAsync("a/"));
        Assert.Equal(["a/1", "a/2", "a/sub/3", "ab/4"], await NamesAsync("a"));
        Assert.Equal(["a/sub/3"], await NamesAsync("a/sub/"));
        Assert.Equal(names, await NamesAsync(""));
        Assert.Empty(await NamesAsync("c/"));
        var listed = await Store.ListAsync("b/", Ct).ToArrayAsync(Ct);
        Assert.Equal(14, Assert.Single(listed).Length);
    }

    [Fact]
    public async Task A_second_write_of_the_same_name_replaces_the_blob_whole()
    {
        await WriteAsync("files/retried", Bytes(MultiBlockSize, seed: 21));
        var second = Bytes(3000, seed: 22);

        await WriteAsync("files/retried", second);

        Assert.Equal(second, await ReadAsync("files/retried"));
        Assert.Equal(second.Length, (await Store.GetPropertiesAsync("files/retried", Ct))?.Length);
    }

    [Fact]
    public async Task A_committed_writer_accepts_no_more_bytes_and_no_second_commit()
    {
        await using var writer = Store.OpenWrite("files/sealed");
        await writer.WriteAsync(Bytes(100, seed: 1), Ct);
        await writer.CommitAsync(Ct);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.WriteAsync(Bytes(1, seed: 2), Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => writer.CommitAsync(Ct));
        Assert.Equal(100, (await Store.GetPropertiesAsync("files/sealed", Ct))?.Length);
    }

    public static TheoryData<string> InvalidNames() =>
        ["", "/a", "a/", "a//b", "../a", "a/../b", "a/./b", ".", "a b", "a\\b", "ü", "a:b", new string('a', BlobNames.MaxLength + 1)];

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task An_invalid_name_is_refused_by_every_operation(string name)
    {
        Assert.Throws<ArgumentException>(() => Store.OpenWrite(name));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(name, ct: Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.GetPropertiesAsync(name, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(name, Ct));
    }

    [Theory]
    [InlineData("../")]
    [InlineData("/")]
    [InlineData("a//")]
    [InlineData("a/../")]
    public async Task An_invalid_prefix_is_refused_by_listing(string prefix)
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.ListAsync(prefix, Ct).ToArrayAsync(Ct));
    }

    protected static byte[] Bytes(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }

    protected async Task WriteAsync(string name, byte[] data)
    {
        await using var writer = Store.OpenWrite(name);
        await WriteInPiecesAsync(writer, data);
        await writer.CommitAsync(Ct);
    }

    /// <summary>
    /// Writes in pieces of uneven sizes through one reused buffer that is scribbled over as soon as each write
    /// returns: a store that kept a reference to the caller's memory instead of copying it commits the scribble.
    /// </summary>
    protected static async Task WriteInPiecesAsync(IBlobWriter writer, byte[] data)
    {
        int[] sizes = [1, 7, 64 * 1024, 3 * MiB + 17, 500_000];
        var scratch = new byte[sizes.Max()];
        var written = 0;
        for (var i = 0; written < data.Length; i++)
        {
            var n = Math.Min(sizes[i % sizes.Length], data.Length - written);
            data.AsSpan(written, n).CopyTo(scratch);
            await writer.WriteAsync(scratch.AsMemory(0, n), Ct);
            scratch.AsSpan(0, n).Fill(0xEE);
            written += n;
        }
    }

    protected async Task<byte[]> ReadAsync(string name, long offset = 0, long? length = null)
    {
        await using var stream = await Store.OpenReadAsync(name, offset, length, Ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, Ct);
        return copy.ToArray();
    }

    protected async Task<string[]> NamesAsync(string prefix) =>
        (await Store.ListAsync(prefix, Ct).Select(b => b.Name).ToArrayAsync(Ct)).Order(StringComparer.Ordinal).ToArray();
}
