using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// The o200k_base tokenizer (GPT-4o and later), loaded once from the data package. Counts of short strings that
/// repeat are cached: batches repeat the same system prompt, roles and answers on every line, and tokenizing is the
/// biggest cost of the local executor. A string is cached only the second time it is seen (a table of recent
/// hashes, no strings, remembers the first time): real prompts are all distinct, and caching each of them kept
/// thousands of strings alive just long enough to be promoted to the old generation and then dropped, which grew
/// the Sandbox's heap under four concurrent batches (docs/sandbox.md, "Memory").
/// </summary>
public sealed class TokenCounter
{
    private const int MaxCachedLength = 1024;
    private const int MaxCacheEntries = 10_000;
    private const int SeenSlots = 4096;   // a power of two; 16 KB

    private readonly TiktokenTokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private readonly ConcurrentDictionary<string, int> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanCache;
    private readonly int[] _seen = new int[SeenSlots];

    public TokenCounter() => _spanCache = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Strings in the cache now (for tests).</summary>
    public int CachedCount => _cache.Count;

    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text)) return 0;
        if (text.Length > MaxCachedLength) return _tokenizer.CountTokens(text);
        if (_cache.TryGetValue(text, out var count)) return count;
        count = _tokenizer.CountTokens(text);
        if (SeenBefore(text)) Remember(text, count);
        return count;
    }

    public int Count(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return 0;
        if (text.Length > MaxCachedLength) return _tokenizer.CountTokens(text);
        if (_spanCache.TryGetValue(text, out var count)) return count;
        count = _tokenizer.CountTokens(text);
        if (SeenBefore(text)) Remember(text.ToString(), count);
        return count;
    }

    /// <summary>
    /// How much of <paramref name="text"/> fits in <paramref name="maxTokens"/> tokens, and how many tokens that is.
    /// <paramref name="knownCount"/> is the text's count when the caller has it already.
    /// </summary>
    public (int Length, int Tokens) Fit(string text, int maxTokens, int? knownCount = null)
    {
        var count = knownCount ?? Count(text);
        if (count <= maxTokens) return (text.Length, count);
        var index = _tokenizer.GetIndexByTokenCount(text, maxTokens, out _, out var tokens);
        return (index, tokens);
    }

    /// <summary>
    /// True when a string with the same hash was the last one seen in its slot; otherwise records it. Races between
    /// threads only change which strings get cached, never a count.
    /// </summary>
    private bool SeenBefore(ReadOnlySpan<char> text)
    {
        var hash = string.GetHashCode(text);
        ref var slot = ref _seen[hash & (SeenSlots - 1)];
        if (Volatile.Read(ref slot) == hash) return true;
        Volatile.Write(ref slot, hash);
        return false;
    }

    private void Remember(string text, int count)
    {
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();   // crude, but bounded and cheap
        _cache.TryAdd(text, count);
    }
}
