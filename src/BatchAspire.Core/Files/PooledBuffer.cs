using System.Buffers;
using System.Buffers.Binary;

namespace BatchAspire.Core.Files;

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

    public void AppendUInt64(ulong value)
    {
        Ensure(8);
        BinaryPrimitives.WriteUInt64LittleEndian(_array.AsSpan(Length), value);
        Length += 8;
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
