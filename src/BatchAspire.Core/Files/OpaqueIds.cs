using System.Buffers;
using System.Security.Cryptography;

namespace BatchAspire.Core.Files;

/// <summary>Random opaque ids: <c>file-</c> + 24 and <c>batch_</c> + 32 base62 characters.</summary>
public static class OpaqueIds
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>The characters of the random part.</summary>
    public static readonly SearchValues<char> Characters = SearchValues.Create(Alphabet);

    public static string NewFileId() => "file-" + Random(24);

    public static string NewJobId() => "batch_" + Random(32);

    public static string Random(int length) =>
        string.Create(length, 0, static (chars, _) => RandomNumberGenerator.GetItems(Alphabet, chars));
}
