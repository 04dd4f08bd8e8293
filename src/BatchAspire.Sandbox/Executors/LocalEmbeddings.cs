using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// Deterministic unit vectors: the same (model, input) always gives the same vector, in the model's
/// dimension (text-embedding-3-small and ada-002: 1536, text-embedding-3-large: 3072) or <c>dimensions</c>.
/// </summary>
public static class LocalEmbeddings
{
    public static int DefaultDimensions(string model) => model.Contains("3-large", StringComparison.Ordinal) ? 3072 : 1536;

    public static ExecutionResult Execute(JsonElement body, LocalContext context)
    {
        var model = LocalContext.Model(body, "text-embedding-3-small");
        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return context.Error(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
        }
        var maxDimensions = DefaultDimensions(model);
        var dimensions = maxDimensions;
        if (body.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (model.Contains("ada-002", StringComparison.Ordinal))
            {
                return context.Error(400, "This model does not support specifying dimensions.", "dimensions", "invalid_value");
            }
            if (!dims.TryGetInt32(out dimensions) || dimensions < 1 || dimensions > maxDimensions)
            {
                return context.Error(400, $"Invalid 'dimensions': must be an integer between 1 and {maxDimensions}.", "dimensions", "invalid_value");
            }
        }
        var base64 = body.TryGetProperty("encoding_format", out var format) && format.ValueEquals("base64"u8);

        // Inputs: one string, an array of strings, one token array, or an array of token arrays.
        var inputs = new List<JsonElement>();
        if (input.ValueKind == JsonValueKind.String || (input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Number)) inputs.Add(input);
        else inputs.AddRange(input.EnumerateArray());
        if (inputs.Count == 0) return context.Error(400, "'input' must not be empty.", "input", "invalid_value");

        var vector = ArrayPool<float>.Shared.Rent(dimensions);
        try
        {
            long promptTokens = 0;
            var w = context.Begin();
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            for (var i = 0; i < inputs.Count; i++)
            {
                ulong seed;
                var item = inputs[i];
                if (item.ValueKind == JsonValueKind.String)
                {
                    var text = item.GetString()!;
                    promptTokens += context.Tokens.Count(text);
                    seed = Fnv.Hash(text, Fnv.Hash(model));
                }
                else if (item.ValueKind == JsonValueKind.Array)
                {
                    seed = Fnv.Hash(model);
                    foreach (var token in item.EnumerateArray())
                    {
                        seed = Fnv.Mix(seed ^ (ulong)(token.TryGetInt64(out var t) ? t : 0));
                        promptTokens++;
                    }
                }
                else
                {
                    return context.Error(400, $"Invalid type for 'input[{i}]': expected a string or an array of token ids.", $"input[{i}]", "invalid_type");
                }
                Fill(vector.AsSpan(0, dimensions), seed);
                w.WriteStartObject();
                w.WriteString("object", "embedding");
                w.WriteNumber("index", i);
                if (base64)
                {
                    w.WriteBase64String("embedding", MemoryMarshal.AsBytes(vector.AsSpan(0, dimensions)));
                }
                else
                {
                    w.WriteStartArray("embedding");
                    foreach (var value in vector.AsSpan(0, dimensions)) w.WriteNumberValue(value);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("model", model);
            w.WriteStartObject("usage");
            w.WriteNumber("prompt_tokens", promptTokens);
            w.WriteNumber("total_tokens", promptTokens);
            w.WriteEndObject();
            w.WriteEndObject();
            return context.Done(new TokenUsage(promptTokens, 0, 0, 0));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(vector);
        }
    }

    /// <summary>SplitMix64 values in [-1, 1), scaled to unit length.</summary>
    private static void Fill(Span<float> vector, ulong seed)
    {
        double norm = 0;
        var state = seed;
        for (var i = 0; i < vector.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            var value = (float)(((Fnv.Mix(state) >> 11) * (1.0 / (1UL << 53))) * 2 - 1);
            vector[i] = value;
            norm += value * value;
        }
        var scale = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0f;
        for (var i = 0; i < vector.Length; i++) vector[i] *= scale;
    }
}
