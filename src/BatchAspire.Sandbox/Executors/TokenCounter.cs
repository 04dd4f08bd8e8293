using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// The o200k_base tokenizer (GPT-4o and later), loaded once from the data package. Counts of short
/// strings are cached: batches repeat the same system prompt, roles and answers on every line, and
/// tokenizing is the biggest cost of the local executor. The cache is small on purpose: what repeats is a
/// handful of strings, while real prompts are all distinct and would only fill it (at 200,000 entries it
/// held ~100 MB of prompts that never came again, and took the Sandbox past 256 MB on a million of them).
/// </summary>
public sealed class TokenCounter
{
    private const int MaxCachedLength = 1024;
    private const int MaxCacheEntries = 10_000;

    private readonly TiktokenTokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private readonly ConcurrentDictionary<string, int> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanCache;

    public TokenCounter() => _spanCache = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

    public int Count(string? text)
    {
        if (string.IsNullOrEmpty(text)) return 0;
        if (text.Length > MaxCachedLength) return _tokenizer.CountTokens(text);
        if (_cache.TryGetValue(text, out var count)) return count;
        count = _tokenizer.CountTokens(text);
        Remember(text, count);
        return count;
    }

    public int Count(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return 0;
        if (text.Length > MaxCachedLength) return _tokenizer.CountTokens(text);
        if (_spanCache.TryGetValue(text, out var count)) return count;
        count = _tokenizer.CountTokens(text);
        Remember(text.ToString(), count);
        return count;
    }

    /// <summary>How much of <paramref name="text"/> fits in <paramref name="maxTokens"/> tokens, and how many tokens that is.</summary>
    public (int Length, int Tokens) Fit(string text, int maxTokens)
    {
        var count = Count(text);
        if (count <= maxTokens) return (text.Length, count);
        var index = _tokenizer.GetIndexByTokenCount(text, maxTokens, out _, out var tokens);
        return (index, tokens);
    }

    private void Remember(string text, int count)
    {
        if (_cache.Count >= MaxCacheEntries) _cache.Clear();   // crude, but bounded and cheap
        _cache.TryAdd(text, count);
    }
}
