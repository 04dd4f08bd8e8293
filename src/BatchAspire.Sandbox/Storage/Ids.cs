using System.Security.Cryptography;

namespace BatchAspire.Sandbox.Storage;

/// <summary>Opaque ids in the shapes the real API uses (<c>file-…</c>, <c>batch_…</c>, <c>batch_req_…</c>, <c>req_…</c>).</summary>
public static class Ids
{
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewFileId() => "file-" + RandomBase62(22, secure: true);

    public static string NewBatchId() => "batch_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string NewMessageBatchId() => "msgbatch_" + RandomBase62(24, secure: true);

    public static string NewRequestId() => "req_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Writes a 32-char id with the given prefix into <paramref name="destination"/>; cheap enough for every result line.</summary>
    public static int WriteFastId(ReadOnlySpan<byte> prefix, Span<byte> destination, int length = 24)
    {
        prefix.CopyTo(destination);
        var rnd = Random.Shared;
        for (var i = 0; i < length; i++)
        {
            destination[prefix.Length + i] = (byte)Base62[rnd.Next(62)];
        }
        return prefix.Length + length;
    }

    public static string RandomBase62(int length, bool secure = false)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Base62[secure ? RandomNumberGenerator.GetInt32(62) : Random.Shared.Next(62)];
        }
        return new string(chars);
    }
}
