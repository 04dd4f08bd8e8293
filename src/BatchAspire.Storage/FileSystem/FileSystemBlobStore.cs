using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace BatchAspire.Storage.FileSystem;

/// <summary>
/// Blobs as files under <see cref="BlobStoreOptions.Root"/>: <c>blobs/{name}</c>. A writer writes
/// <c>tmp/{random}</c> and commits by flushing it to disk (unless <see cref="BlobStoreOptions.Durable"/> is off) and
/// renaming it into place, so a crash never leaves a half blob under a real name; what a killed writer left in
/// <c>tmp/</c> is freed by <see cref="DeleteAbandonedAsync"/>. Reads go straight to the file at an offset
/// (<see cref="RandomAccess"/>), so ranges cost nothing extra and concurrent readers share nothing.
/// </summary>
public sealed class FileSystemBlobStore : IBlobStore
{
    private readonly string _blobs;
    private readonly string _tmp;
    private readonly bool _durable;

    public FileSystemBlobStore(BlobStoreOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Root)) throw new ArgumentException("Blobs:Root names no folder.", nameof(options));
        var root = Path.GetFullPath(options.Root);
        _blobs = Directory.CreateDirectory(Path.Combine(root, "blobs")).FullName;
        _tmp = Directory.CreateDirectory(Path.Combine(root, "tmp")).FullName;
        _durable = options.Durable;
    }

    public IBlobWriter OpenWrite(string name) =>
        new Writer(this, BlobNames.Check(name), Path.Combine(_tmp, Guid.NewGuid().ToString("N")));

    public Task<Stream> OpenReadAsync(string name, long offset = 0, long? length = null, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathOf(name);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.None);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new BlobNotFoundException(name, e);
        }
        var size = RandomAccess.GetLength(handle);
        var end = length is { } l ? Math.Min(size, offset + l) : size;
        return Task.FromResult<Stream>(new RangeStream(handle, Math.Min(offset, size), end));
    }

    public Task<BlobProperties?> GetPropertiesAsync(string name, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(name));
        return Task.FromResult(info.Exists ? new BlobProperties(name, info.Length, info.LastWriteTimeUtc) : null);
    }

    public Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        var path = PathOf(name);
        if (!File.Exists(path)) return Task.FromResult(false);
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
        return Task.FromResult(true);
    }

    public async IAsyncEnumerable<BlobProperties> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        BlobNames.CheckPrefix(prefix);
        // The deepest folder the prefix names whole is where the walk starts.
        var slash = prefix.LastIndexOf('/');
        var start = slash < 0 ? _blobs : Path.Combine(_blobs, prefix[..slash]);
        if (!Directory.Exists(start)) yield break;
        foreach (var path in Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories))
        {
            ct.ThrowIfCancellationRequested();
            var name = Path.GetRelativePath(_blobs, path).Replace(Path.DirectorySeparatorChar, '/');
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var info = new FileInfo(path);
            if (!info.Exists) continue;   // deleted while listing
            yield return new BlobProperties(name, info.Length, info.LastWriteTimeUtc);
        }
        await Task.CompletedTask;
    }

    public Task<int> DeleteAbandonedAsync(TimeSpan olderThan, CancellationToken ct = default)
    {
        var before = DateTime.UtcNow - olderThan;
        var freed = 0;
        foreach (var path in Directory.EnumerateFiles(_tmp))
        {
            ct.ThrowIfCancellationRequested();
            if (File.GetLastWriteTimeUtc(path) >= before) continue;
            try
            {
                File.Delete(path);
                freed++;
            }
            catch (IOException)
            {
                // Gone already, or still open somewhere: the next sweep tries again.
            }
        }
        return Task.FromResult(freed);
    }

    private string PathOf(string name) => Path.Combine(_blobs, BlobNames.Check(name));

    /// <summary>ENOSPC / EDQUOT on Unix (raw errno in HResult), ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    internal static bool IsDiskFull(IOException e) => (e.HResult & 0xFFFF) is 28 or 122 or 39 or 112;

    /// <remarks>
    /// A durable blob is flushed to disk before it is renamed into place. So that the commit does not wait for the whole
    /// blob to reach the disk, a flush of what is written so far starts in the background every
    /// <see cref="BackgroundFlushBytes"/> while the writer goes on: the commit's own flush then only has the tail left.
    /// </remarks>
    private sealed class Writer(FileSystemBlobStore store, string name, string tempPath) : IBlobWriter
    {
        private const long BackgroundFlushBytes = 4L * 1024 * 1024;

        private SafeFileHandle? _handle;
        private Task _flushing = Task.CompletedTask;
        private long _flushStartedAt;
        private bool _committed;
        private bool _disposed;

        public string Name => name;

        public long Length { get; private set; }

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(_disposed || _committed, this);
            ct.ThrowIfCancellationRequested();
            _handle ??= File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
            try
            {
                // A write lands in the page cache at memory speed: done in place, it costs less than a hop to the pool.
                RandomAccess.Write(_handle, data.Span, Length);
            }
            catch (IOException e) when (IsDiskFull(e))
            {
                throw new BlobStoreFullException($"The blob store has no room for '{name}'.", e);
            }
            Length += data.Length;
            if (store._durable && _flushing.IsCompleted && Length - _flushStartedAt >= BackgroundFlushBytes)
            {
                _flushStartedAt = Length;
                var handle = _handle;
                _flushing = Task.Run(() => RandomAccess.FlushToDisk(handle));
            }
            return ValueTask.CompletedTask;
        }

        public async Task CommitAsync(CancellationToken ct = default)
        {
            ObjectDisposedException.ThrowIf(_disposed || _committed, this);
            ct.ThrowIfCancellationRequested();
            _handle ??= File.OpenHandle(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None);
            try
            {
                if (store._durable)
                {
                    await _flushing;
                    RandomAccess.FlushToDisk(_handle);
                }
                _handle.Dispose();
                var target = Path.Combine(store._blobs, name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Move(tempPath, target, overwrite: true);
            }
            catch (IOException e) when (IsDiskFull(e))
            {
                throw new BlobStoreFullException($"The blob store has no room for '{name}'.", e);
            }
            _committed = true;
        }

        public async ValueTask DisposeAsync()
        {
            if (_disposed) return;
            _disposed = true;
            try { await _flushing; } catch (IOException) { }   // the handle outlives any flush still running
            _handle?.Dispose();
            if (!_committed)
            {
                try { File.Delete(tempPath); } catch (IOException) { }
            }
        }
    }

    /// <summary>A read-only window [position, end) of a file, read at offsets (no shared file position).</summary>
    private sealed class RangeStream(SafeFileHandle handle, long position, long end) : Stream
    {
        private long _position = position;
        private readonly long _start = position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => end - _start;
        public override long Position { get => _position - _start; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = RandomAccess.Read(handle, buffer[..(int)Math.Min(buffer.Length, end - _position)], _position);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            var n = await RandomAccess.ReadAsync(handle, buffer[..(int)Math.Min(buffer.Length, end - _position)], _position, ct);
            _position += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) handle.Dispose();
            base.Dispose(disposing);
        }
    }
}
