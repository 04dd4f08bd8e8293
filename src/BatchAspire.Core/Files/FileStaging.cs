using System.Buffers;
using System.Buffers.Binary;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Files;

/// <summary>
/// Writes a new file's segments under staging keys and makes it visible in one script. Keeps up to
/// <c>depth</c> segment writes in flight: when <see cref="AppendSegmentAsync"/> returns, the write of the
/// segment appended <c>depth</c> calls earlier (and every one before it) has completed, so a writer with a
/// ring of <c>depth + 1</c> buffers can always fill the next one while the others travel to Redis.
/// </summary>
internal sealed class FileStaging(IDatabase db, string fileId, int depth = 1)
{
    /// <summary>Staging keys outlive a crashed writer by at most this long.</summary>
    internal static readonly TimeSpan Ttl = TimeSpan.FromHours(6);

    // Rename whichever staging keys exist, drop their TTL, write the hash last, list the file, and index it by its
    // expiry for the sweeper.
    private static readonly LuaScript CommitScript = LuaScript.Prepare($$"""
        for i = 1, 3 do
          if redis.call('EXISTS', KEYS[i]) == 1 then
            redis.call('RENAME', KEYS[i], KEYS[i + 3])
            redis.call('PERSIST', KEYS[i + 3])
          end
        end
        local seq = redis.call('INCR', KEYS[9])
        redis.call('HSET', KEYS[7], 'seq', seq, unpack(ARGV, 2))
        redis.call('ZADD', KEYS[8], seq, ARGV[1])
        local expiresAt = redis.call('HGET', KEYS[7], '{{FileFields.ExpiresAt}}')
        if expiresAt then redis.call('ZADD', KEYS[10], expiresAt, ARGV[1]) end
        return seq
        """);

    private readonly RedisKey _data = RedisKeys.StagingFileData(fileId);
    private readonly RedisKey _lens = RedisKeys.StagingFileLineLengths(fileId);
    private readonly RedisKey _segs = RedisKeys.StagingFileSegments(fileId);
    private readonly Queue<Task> _inFlight = new();
    private Task _issuing = Task.CompletedTask;

    public string FileId { get; } = fileId;

    public long Segments { get; private set; }

    /// <summary>
    /// Appends a segment and its line lengths. The commands are serialised on a
    /// pool thread, in order, so copying a 1 MiB segment into the connection runs beside the caller's
    /// work on the next segment rather than after it.
    /// </summary>
    public async ValueTask AppendSegmentAsync(ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> lineLengths, long firstLine)
    {
        while (_inFlight.Count >= depth) await _inFlight.Dequeue();
        var first = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(first, checked((uint)firstLine));
        // The TTL is refreshed now and then, not per segment: it only has to outlive a stalled writer.
        var expire = Segments % 64 == 0;
        Segments++;
        // Each issue starts after the previous one has issued its commands, so RPUSH order is segment order.
        var issued = _issuing.ContinueWith(_ => Task.WhenAll(
            db.ListRightPushAsync(_data, data),
            lineLengths.IsEmpty ? Task.CompletedTask : db.StringAppendAsync(_lens, lineLengths),
            db.StringAppendAsync(_segs, first),
            expire ? Task.WhenAll(db.KeyExpireAsync(_data, Ttl), db.KeyExpireAsync(_lens, Ttl), db.KeyExpireAsync(_segs, Ttl)) : Task.CompletedTask),
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        _issuing = issued;
        _inFlight.Enqueue(issued.Unwrap());
    }

    /// <summary>Waits for every segment write; after this every buffer handed over is free.</summary>
    public async Task CompleteAsync()
    {
        while (_inFlight.Count > 0) await _inFlight.Dequeue();
    }

    /// <summary>Renames the staging keys to the file's keys and writes the hash; returns the list position.</summary>
    public async Task<long> CommitAsync(string tenant, IEnumerable<HashEntry> fields)
    {
        await CompleteAsync();
        var args = new List<RedisValue> { FileId };
        foreach (var f in fields) { args.Add(f.Name); args.Add(f.Value); }
        args.Add(FileFields.Segments);
        args.Add(Segments);
        RedisKey[] keys =
        [
            _data, _lens, _segs,
            RedisKeys.FileData(FileId), RedisKeys.FileLineLengths(FileId), RedisKeys.FileSegments(FileId),
            RedisKeys.File(FileId), RedisKeys.TenantFiles(tenant), RedisKeys.Sequence, RedisKeys.ExpiringFiles,
        ];
        var result = await db.ScriptEvaluateAsync(CommitScript.ExecutableScript, keys, [.. args]);
        return (long)result;
    }

    /// <summary>Deletes everything written so far (after the in-flight write, so nothing lands afterwards).</summary>
    public async Task AbortAsync()
    {
        while (_inFlight.Count > 0)
        {
            try { await _inFlight.Dequeue(); } catch (Exception e) when (e is RedisException or TimeoutException) { }
        }
        await db.KeyDeleteAsync([_data, _lens, _segs]);
    }
}

/// <summary>A growable byte buffer rented from the shared pool.</summary>
internal sealed class PooledBuffer(int initialCapacity) : IDisposable
{
    private byte[] _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Length { get; private set; }

    public byte[] Array => _array;

    public ReadOnlyMemory<byte> Written => _array.AsMemory(0, Length);

    public void AppendUInt32(uint value)
    {
        Ensure(4);
        BinaryPrimitives.WriteUInt32LittleEndian(_array.AsSpan(Length), value);
        Length += 4;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_array.AsSpan(Length));
        Length += bytes.Length;
    }

    public void Clear() => Length = 0;

    /// <summary>Makes room for <paramref name="count"/> more bytes, keeping what is written.</summary>
    public void Ensure(int count)
    {
        if (Length + count <= _array.Length) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Length + count));
        _array.AsSpan(0, Length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_array);
        _array = [];
    }
}
