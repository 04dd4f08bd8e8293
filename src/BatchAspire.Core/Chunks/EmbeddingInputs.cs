using System.Text.Json;
using BatchAspire.Core.Jsonl;

namespace BatchAspire.Core.Chunks;

/// <summary>
/// Counts the embedding inputs of one <c>/v1/embeddings</c> request line, as the Batch API counts them against its cap
/// of 50,000 inputs per batch: a string is one input, an array of strings (or of token arrays) one per element, and a
/// single array of token ids one input.
/// </summary>
public static class EmbeddingInputs
{
    /// <summary>The Batch API's cap on embedding inputs across all requests of one batch.</summary>
    public const int BatchApiCap = 50_000;

    /// <summary>The inputs of <c>body.input</c>; a line that is not valid JSON or has no input counts one (the provider answers for it).</summary>
    public static int Count(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 128 });
        try
        {
            if (RequestBody.TryReadProperty(ref reader, "input"u8)) return CountValue(ref reader);
        }
        catch (JsonException)
        {
        }
        return 1;
    }

    private static int CountValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) return 1;
        var depth = reader.CurrentDepth;
        int count = 0;
        var tokenIds = false;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType == JsonTokenType.Number) tokenIds = true;
            count++;
            if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject) reader.Skip();
        }
        return tokenIds ? 1 : Math.Max(count, 1);
    }
}
