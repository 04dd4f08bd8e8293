namespace BatchAspire.Sandbox.Executors;

/// <summary>A short, deterministic caption per image (the same image always gets the same words).</summary>
public static class Captions
{
    private static readonly string[] Subjects =
        ["a city street", "a mountain landscape", "a bowl of fruit", "a sleeping cat", "a sandy beach", "a wooden table",
         "a group of people", "a bicycle", "a forest path", "a cup of coffee", "an old building", "a dog in a park"];

    private static readonly string[] Moods =
        ["in soft morning light", "on a sunny day", "under a cloudy sky", "at dusk", "in warm colors", "in sharp focus"];

    public static string For(IReadOnlyList<string> imageUrls)
    {
        var parts = new string[imageUrls.Count];
        for (var i = 0; i < imageUrls.Count; i++)
        {
            var hash = Fnv.Hash(imageUrls[i]);
            var text = $"{Subjects[hash % (ulong)Subjects.Length]} {Moods[(hash >> 16) % (ulong)Moods.Length]}";
            parts[i] = char.ToUpperInvariant(text[0]) + text[1..];
        }
        return string.Join(". ", parts) + ".";
    }
}

/// <summary>FNV-1a: a stable hash (string.GetHashCode is randomised per process).</summary>
public static class Fnv
{
    public static ulong Hash(ReadOnlySpan<char> text, ulong seed = 14695981039346656037UL)
    {
        var hash = seed;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }

    public static ulong Hash(string a, long b) => Mix(Hash(a.AsSpan()) ^ (ulong)b);

    public static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return x;
    }

    /// <summary>A stable number in [0, 1) for a (batch, request) pair; used for fault rolls that must replay the same after a restart.</summary>
    public static double Unit(string key, long index) => (Hash(key, index) >> 11) * (1.0 / (1UL << 53));
}
