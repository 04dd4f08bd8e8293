using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace BatchAspire.Storage.Azure;

/// <summary>
/// Blobs as block blobs in one container of Azure Blob Storage (Azurite locally). A writer copies the caller's bytes
/// into its own blocks and stages them while the caller goes on writing; commit puts the block list in one request,
/// so nothing is visible under the name before it and the whole blob is after. A writer that never commits leaves only
/// uncommitted blocks, which the service discards on its own (a week at most), so there is nothing to sweep.
/// </summary>
/// <remarks>
/// The SDK's retry policy is the only retry layer (<see cref="ClientOptions"/>): when it gives up, the failure is an
/// outage (<see cref="BlobStoreUnavailableException"/>) and the caller's own schedule decides when to try again.
/// </remarks>
public sealed class AzureBlobStore : IBlobStore
{
    /// <summary>Large enough that a GB costs a few hundred requests, small enough that a few in flight fit in memory.</summary>
    internal const int BlockSize = 4 * 1024 * 1024;

    /// <summary>Blocks a writer stages at once: keeps one connection's latency from bounding upload throughput.</summary>
    internal const int MaxBlocksInFlight = 4;

    private readonly BlobContainerClient _container;
    private readonly Lock _containerGate = new();
    private Task? _containerReady;

    public AzureBlobStore(BlobStoreOptions options, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _container = new BlobServiceClient(connectionString, ClientOptions()).GetBlobContainerClient(options.Container);
        // The SDK puts the account in the path only for an IP address or an emulator port (10000...); an emulator
        // named by host name on another port (http://localhost:43903/devstoreaccount1) is read as account-in-host, and
        // every blob client it derives then drops the container from the URL: blobs would land in the wrong place.
        if (_container.Name != options.Container)
        {
            throw new InvalidOperationException(
                $"The Azure SDK does not read the blob endpoint of this connection string as path-style (it finds container '{_container.Name}' " +
                $"instead of '{options.Container}'): name an emulator by IP address (127.0.0.1), not by host name.");
        }
    }

    /// <summary>
    /// Three tries a few hundred milliseconds apart: rides over a dropped connection or a busy node, and still reports
    /// an outage within seconds instead of holding a worker's message for minutes.
    /// </summary>
    internal static BlobClientOptions ClientOptions()
    {
        var options = new BlobClientOptions();
        options.Retry.Mode = RetryMode.Exponential;
        options.Retry.MaxRetries = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.Retry.MaxDelay = TimeSpan.FromSeconds(2);
        options.Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        return options;
    }

    public IBlobWriter OpenWrite(string name) =>
        new Writer(this, BlobNames.Check(name), _container.GetBlockBlobClient(name));

    public async Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        BlobNames.Check(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is { } l) ArgumentOutOfRangeException.ThrowIfNegative(l);
        var blob = _container.GetBlobClient(name);
        if (length == 0)
        {
            // No range header can ask for zero bytes; the answer only depends on the blob existing.
            return await GetPropertiesAsync(name, ct) is null ? throw new BlobNotFoundException(name) : new MemoryStream([], writable: false);
        }
        try
        {
            var options = new BlobDownloadOptions { Range = offset == 0 && length is null ? default : new HttpRange(offset, length) };
            var download = await blob.DownloadStreamingAsync(options, ct);
            return new DownloadStream(download.Value.Content, download.Value.Details.ContentLength, name);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(name, e);
        }
        catch (RequestFailedException e) when (e.Status == 416)
        {
            // The blob exists (else 404) and the range starts at or past its end: nothing to read, as on a file.
            return new MemoryStream([], writable: false);
        }
        catch (Exception e) when (Failure.Map(e, name, ct) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<BlobProperties?> GetPropertiesAsync(string name, CancellationToken ct = default)
    {
        BlobNames.Check(name);
        try
        {
            var properties = (await _container.GetBlobClient(name).GetPropertiesAsync(cancellationToken: ct)).Value;
            return new BlobProperties(name, properties.ContentLength, properties.LastModified);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (Exception e) when (Failure.Map(e, name, ct) is { } mapped)
        {
            throw mapped;
        }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        BlobNames.Check(name);
        try
        {
            return (await _container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;   // the container itself is missing
        }
        catch (Exception e) when (Failure.Map(e, name, ct) is { } mapped)
        {
            throw mapped;
        }
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        BlobNames.CheckPrefix(prefix);
        var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix.Length == 0 ? null : prefix }, ct);
        await using var items = pages.GetAsyncEnumerator(ct);
        while (await MoveNextAsync(items, prefix, ct))
        {
            var item = items.Current;
            yield return new BlobProperties(item.Name, item.Properties.ContentLength ?? 0, item.Properties.LastModified ?? default);
        }
    }

    private static async ValueTask<bool> MoveNextAsync(IAsyncEnumerator<BlobItem> items, string prefix, CancellationToken ct)
    {
        try
        {
            return await items.MoveNextAsync();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false;   // no container yet: nothing was ever written
        }
        catch (Exception e) when (Failure.Map(e, prefix, ct) is { } mapped)
        {
            throw mapped;
        }
    }

    public Task<int> DeleteAbandonedAsync(TimeSpan olderThan, CancellationToken ct = default) => Task.FromResult(0);

    /// <summary>
    /// Creates the container the first time a writer needs it. One creation is shared by every writer; a failed one
    /// (an outage) is forgotten so the next writer tries again.
    /// </summary>
    private Task EnsureContainerAsync(CancellationToken ct)
    {
        Task ready;
        lock (_containerGate)
        {
            if (_containerReady is null || _containerReady.IsFaulted || _containerReady.IsCanceled)
            {
                _containerReady = CreateContainerAsync();
            }
            ready = _containerReady;
        }
        return ready.WaitAsync(ct);
    }

    private async Task CreateContainerAsync()
    {
        try
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: CancellationToken.None);
        }
        catch (Exception e) when (Failure.Map(e, _container.Name, CancellationToken.None) is { } mapped)
        {
            throw mapped;
        }
    }

    private sealed class Writer(AzureBlobStore store, string name, BlockBlobClient blob) : IBlobWriter
    {
        // Unique per writer, so a retried write of the same name never mixes its blocks with an earlier attempt's.
        private readonly string _blockIdPrefix = Guid.NewGuid().ToString("N");
        private readonly List<string> _blockIds = [];
        private readonly Queue<Task> _inFlight = new();
        private readonly CancellationTokenSource _abandon = new();
        private byte[]? _buffer;
        private int _filled;
        private bool _committed;
        private bool _disposed;

        public string Name => name;

        public long Length { get; private set; }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(_disposed || _committed, this);
            while (!data.IsEmpty)
            {
                _buffer ??= ArrayPool<byte>.Shared.Rent(BlockSize);
                var n = Math.Min(data.Length, BlockSize - _filled);
                data.Span[..n].CopyTo(_buffer.AsSpan(_filled));
                _filled += n;
                Length += n;
                data = data[n..];
                if (_filled == BlockSize) await StageBufferAsync(ct);
            }
        }

        public async Task CommitAsync(CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(_disposed || _committed, this);
            try
            {
                await store.EnsureContainerAsync(ct);
                if (_blockIds.Count == 0)
                {
                    // Everything fits in one block: a single Put Blob is as atomic as a block list and one request cheaper.
                    using var content = new MemoryStream(_buffer ?? [], 0, _filled, writable: false);
                    await blob.UploadAsync(content, new BlobUploadOptions(), ct);
                }
                else
                {
                    if (_filled > 0) await StageBufferAsync(ct);
                    await DrainAsync(0, ct);
                    await blob.CommitBlockListAsync(_blockIds, new CommitBlockListOptions(), ct);
                }
            }
            catch (Exception e) when (Failure.Map(e, name, ct) is { } mapped)
            {
                throw mapped;
            }
            _committed = true;
            ReturnBuffer();
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            if (!_committed) await _abandon.CancelAsync();
            foreach (var stage in _inFlight)
            {
                try { await stage; } catch { /* abandoned: its blocks are never committed, so its failure does not matter */ }
            }
            ReturnBuffer();
            _abandon.Dispose();
        }

        private async ValueTask StageBufferAsync(CancellationToken ct)
        {
            await DrainAsync(MaxBlocksInFlight - 1, ct);
            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_blockIdPrefix}-{_blockIds.Count:D6}"));
            _blockIds.Add(id);
            var (buffer, count) = (_buffer!, _filled);
            (_buffer, _filled) = (null, 0);
            _inFlight.Enqueue(StageAsync(id, buffer, count));
        }

        /// <summary>Waits until at most <paramref name="keep"/> blocks are in flight; a failed block fails the writer.</summary>
        private async ValueTask DrainAsync(int keep, CancellationToken ct)
        {
            while (_inFlight.Count > keep)
            {
                // Left in the queue when it failed, so every later write and the commit report the same failure.
                await _inFlight.Peek().WaitAsync(ct);
                _ = _inFlight.Dequeue();   // completed: nothing left to await
            }
        }

        private async Task StageAsync(string id, byte[] buffer, int count)
        {
            try
            {
                await store.EnsureContainerAsync(_abandon.Token);
                using var content = new MemoryStream(buffer, 0, count, writable: false);
                await blob.StageBlockAsync(id, content, new BlockBlobStageBlockOptions(), _abandon.Token);
            }
            catch (Exception e) when (Failure.Map(e, name, _abandon.Token) is { } mapped)
            {
                throw mapped;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private void ReturnBuffer()
        {
            if (_buffer is null) return;
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    /// <summary>A download's body: bytes as they arrive, with a failure mid-way reported as an outage.</summary>
    private sealed class DownloadStream(Stream inner, long length, string name) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (Exception e) when (Failure.Map(e, name, CancellationToken.None) is { } mapped)
            {
                throw mapped;
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, ct);
            }
            catch (Exception e) when (Failure.Map(e, name, ct) is { } mapped)
            {
                throw mapped;
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    /// <summary>Turns what the SDK throws into the store's own errors; null leaves an exception as it is.</summary>
    internal static class Failure
    {
        public static Exception? Map(Exception e, string name, CancellationToken ct)
        {
            if (e is BlobStoreUnavailableException or BlobStoreFullException or BlobNotFoundException) return null;
            if (IsFull(e)) return new BlobStoreFullException($"The blob store has no room for '{name}'.", e);
            if (IsOutage(e, ct)) return new BlobStoreUnavailableException($"The blob store did not answer for '{name}'.", e);
            return null;
        }

        private static bool IsFull(Exception e) => e is RequestFailedException
        {
            // 507 and BlockCountExceedsLimit are the service's; MemoryExtentStoreAtSizeLimit is Azurite's (in-memory limit).
            Status: 507,
        } or RequestFailedException { ErrorCode: "BlockCountExceedsLimit" or "MemoryExtentStoreAtSizeLimit" };

        private static bool IsOutage(Exception e, CancellationToken ct) => e switch
        {
            // Status 0: no HTTP answer at all (refused, reset, DNS); 408 and 5xx: the service could not serve it now.
            RequestFailedException r => r.Status is 0 or 408 or >= 500,
            // The retry policy gives up with every attempt's failure; all of them being outages makes this one.
            AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(inner => IsOutage(inner, ct)),
            // A network timeout, not the caller giving up.
            OperationCanceledException => !ct.IsCancellationRequested,
            HttpRequestException or IOException or SocketException or TimeoutException => true,
            _ => false,
        };
    }
}
