using System.Diagnostics;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using BatchAspire.Storage.Azure;
using BatchAspire.Testing;
using Microsoft.Extensions.Hosting;

namespace BatchAspire.Storage.Tests;

/// <summary>One Azurite for the Azure half of the suite; tests are isolated by containers, not by restarts.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await AzuriteServer.StartAsync(ct: TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>The conformance suite on <see cref="AzureBlobStore"/> against Azurite, each test in its own new container.</summary>
public sealed class AzureBlobStoreTests(AzuriteFixture azurite) : BlobStoreConformanceTests, IClassFixture<AzuriteFixture>
{
    private readonly string _container = "t" + Guid.NewGuid().ToString("N");

    // Built the way the services build it, so the provider switch is covered too.
    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult(
        BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure", Container = _container }, azurite.Server.ConnectionString));

    private BlobContainerClient Container(string connectionString) =>
        new BlobServiceClient(connectionString).GetBlobContainerClient(_container);

    [Fact]
    public void The_azure_provider_builds_the_azure_store()
    {
        Assert.IsType<AzureBlobStore>(Store);
        Assert.Throws<InvalidOperationException>(() => BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure" }, null));
    }

    [Fact]
    public void An_emulator_named_by_host_name_on_its_own_port_is_refused_rather_than_writing_to_the_wrong_place()
    {
        var byHostName = azurite.Server.ConnectionString.Replace("127.0.0.1", "localhost");

        var refused = Assert.Throws<InvalidOperationException>(() =>
            BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure", Container = _container }, byHostName));
        Assert.Contains("127.0.0.1", refused.Message);
    }

    [Fact]
    public async Task A_store_whose_container_does_not_exist_yet_finds_nothing_and_the_first_write_creates_it()
    {
        var container = Container(azurite.Server.ConnectionString);

        Assert.Null(await Store.GetPropertiesAsync("files/a", Ct));
        Assert.Empty(await NamesAsync(""));
        Assert.False(await Store.DeleteAsync("files/a", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/a", ct: Ct));
        Assert.False((await container.ExistsAsync(Ct)).Value);

        await WriteAsync("files/a", Bytes(10, seed: 1));

        Assert.True((await container.ExistsAsync(Ct)).Value);
        Assert.Equal(["files/a"], await NamesAsync(""));
    }

    [Fact]
    public async Task A_writer_that_staged_blocks_but_never_committed_leaves_no_blob()
    {
        var writer = Store.OpenWrite("files/killed");
        await WriteInPiecesAsync(writer, Bytes(MultiBlockSize, seed: 3));
        var blob = Container(azurite.Server.ConnectionString).GetBlockBlobClient("files/killed");

        // The two full blocks go out while writing; wait until the service holds them, uncommitted.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        BlockList? blocks = null;
        while (blocks?.UncommittedBlocks.Count() is not >= 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
            try
            {
                blocks = (await blob.GetBlockListAsync(BlockListTypes.All, cancellationToken: Ct)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // No block has arrived yet.
            }
        }
        Assert.NotNull(blocks);

        Assert.Equal(2, blocks.UncommittedBlocks.Count());
        Assert.Empty(blocks.CommittedBlocks);
        Assert.Null(await Store.GetPropertiesAsync("files/killed", Ct));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => Store.OpenReadAsync("files/killed", ct: Ct));
        Assert.Empty(await NamesAsync(""));
        // The service discards uncommitted blocks itself: nothing for the store's sweep.
        Assert.Equal(0, await Store.DeleteAbandonedAsync(TimeSpan.Zero, Ct));
    }

    [Fact]
    public async Task An_unreachable_store_throws_BlobStoreUnavailable_from_every_operation_within_seconds()
    {
        var nobody = AzuriteServer.DevelopmentConnectionString(FreePort.Next());
        var store = BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure", Container = _container }, nobody);
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAsync<BlobStoreUnavailableException>(async () =>
        {
            await using var writer = store.OpenWrite("files/a");
            await writer.WriteAsync(Bytes(100, seed: 1), Ct);
            await writer.CommitAsync(Ct);
        });
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(async () =>
        {
            // Large enough to stage blocks while writing: the failure comes from a block in flight.
            await using var writer = store.OpenWrite("files/b");
            await WriteInPiecesAsync(writer, Bytes(MultiBlockSize, seed: 2));
            await writer.CommitAsync(Ct);
        });
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync("files/a", ct: Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync("files/a", 5, 10, Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.GetPropertiesAsync("files/a", Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.DeleteAsync("files/a", Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(async () => await store.ListAsync("files/", Ct).ToArrayAsync(Ct));

        // Seven operations, each three quick tries: one retry layer, not retries stacked on retries.
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task A_store_stopped_mid_write_fails_as_an_outage_and_serves_again_once_started()
    {
        await using var server = await AzuriteServer.StartAsync(ct: Ct);
        var store = BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure", Container = _container }, server.ConnectionString);
        var kept = Bytes(5 * MiB, seed: 1);
        await using (var w = store.OpenWrite("files/kept"))
        {
            await WriteInPiecesAsync(w, kept);
            await w.CommitAsync(Ct);
        }
        var writer = store.OpenWrite("files/interrupted");
        await WriteInPiecesAsync(writer, Bytes(MultiBlockSize, seed: 2));

        await server.StopAsync();

        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => writer.CommitAsync(Ct));
        await writer.DisposeAsync();
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.OpenReadAsync("files/kept", ct: Ct));
        await Assert.ThrowsAsync<BlobStoreUnavailableException>(() => store.GetPropertiesAsync("files/kept", Ct));

        await server.StartAsync(Ct);

        Assert.Null(await store.GetPropertiesAsync("files/interrupted", Ct));
        await using (var stream = await store.OpenReadAsync("files/kept", ct: Ct))
        using (var copy = new MemoryStream())
        {
            await stream.CopyToAsync(copy, Ct);
            Assert.Equal(kept, copy.ToArray());
        }
        var retried = Bytes(MultiBlockSize, seed: 3);
        await using (var w = store.OpenWrite("files/interrupted"))
        {
            await WriteInPiecesAsync(w, retried);
            await w.CommitAsync(Ct);
        }
        Assert.Equal(retried.Length, (await store.GetPropertiesAsync("files/interrupted", Ct))?.Length);
    }

    [Fact]
    public async Task A_store_with_no_room_throws_BlobStoreFull_and_keeps_nothing_of_that_blob()
    {
        await using var server = await AzuriteServer.StartAsync(memoryLimitMegabytes: 2, ct: Ct);
        var store = BlobStoreExtensions.Create(new BlobStoreOptions { Provider = "azure", Container = _container }, server.ConnectionString);
        await using (var small = store.OpenWrite("files/small"))
        {
            await small.WriteAsync(Bytes(1000, seed: 1), Ct);
            await small.CommitAsync(Ct);
        }

        await Assert.ThrowsAsync<BlobStoreFullException>(async () =>
        {
            await using var writer = store.OpenWrite("files/big");
            await WriteInPiecesAsync(writer, Bytes(MultiBlockSize, seed: 2));
            await writer.CommitAsync(Ct);
        });

        Assert.Null(await store.GetPropertiesAsync("files/big", Ct));
        Assert.Equal(1000, (await store.GetPropertiesAsync("files/small", Ct))?.Length);
    }
}
