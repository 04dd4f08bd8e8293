using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Executors;

/// <summary>A keyword moderation model: a category is flagged when one of its phrases appears.</summary>
public static class LocalModerations
{
    private static readonly (string Category, string[] Phrases, bool AppliesToImages)[] Categories =
    [
        ("harassment", ["idiot", "stupid", "loser", "moron", "shut up"], false),
        ("harassment/threatening", ["i will hurt you", "i will find you", "you will regret"], false),
        ("hate", ["subhuman", "vermin"], false),
        ("hate/threatening", ["exterminate them"], false),
        ("illicit", ["cocaine", "heroin", "meth", "shoplift", "steal a"], false),
        ("illicit/violent", ["make a bomb", "build a weapon", "buy a gun illegally"], false),
        ("self-harm", ["suicide", "kill myself", "self-harm", "hurt myself"], true),
        ("self-harm/intent", ["kill myself", "want to die", "end my life"], true),
        ("self-harm/instructions", ["how to kill myself", "how to hurt myself"], true),
        ("sexual", ["porn", "nude", "explicit sex"], true),
        ("sexual/minors", [], true),
        ("violence", ["kill", "murder", "stab", "shoot", "attack", "bomb"], true),
        ("violence/graphic", ["gore", "mutilate", "dismember", "blood everywhere"], true),
    ];

    public static ExecutionResult Execute(JsonElement body, LocalContext context)
    {
        if (!body.TryGetProperty("input", out var input) || input.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
        {
            return context.Error(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
        }
        var model = LocalContext.Model(body, "omni-moderation-latest");
        var omni = model.StartsWith("omni", StringComparison.Ordinal);

        // A string, an array of strings (one result each), or an array of multimodal parts (one result).
        var items = new List<(string Text, bool HasImage)>();
        if (input.ValueKind == JsonValueKind.String) items.Add((input.GetString()!, false));
        else if (input.GetArrayLength() > 0 && input[0].ValueKind == JsonValueKind.Object) items.Add(Multimodal(input));
        else foreach (var item in input.EnumerateArray()) items.Add((item.ValueKind == JsonValueKind.String ? item.GetString()! : "", false));

        var w = context.Begin();
        w.WriteStartObject();
        Span<byte> id = stackalloc byte[32];
        w.WriteString("id", id[..Ids.WriteFastId("modr-"u8, id)]);
        w.WriteString("model", model);
        w.WriteStartArray("results");
        Span<bool> hits = stackalloc bool[Categories.Length];
        foreach (var (text, hasImage) in items)
        {
            var lower = text.ToLowerInvariant();
            hits.Clear();
            var flagged = false;
            for (var c = 0; c < Categories.Length; c++)
            {
                foreach (var phrase in Categories[c].Phrases)
                {
                    if (ContainsWord(lower, phrase)) hits[c] = true;
                }
                flagged |= hits[c];
            }
            w.WriteStartObject();
            w.WriteBoolean("flagged", flagged);
            w.WriteStartObject("categories");
            for (var c = 0; c < Categories.Length; c++) w.WriteBoolean(Categories[c].Category, hits[c]);
            w.WriteEndObject();
            w.WriteStartObject("category_scores");
            var seed = Fnv.Hash(lower);
            for (var c = 0; c < Categories.Length; c++)
            {
                var noise = (Fnv.Mix(seed + (ulong)c) >> 40) / (double)(1UL << 24);
                w.WriteNumber(Categories[c].Category, hits[c] ? 0.9 + noise * 0.09 : noise * 0.001);
            }
            w.WriteEndObject();
            if (omni)
            {
                w.WriteStartObject("category_applied_input_types");
                foreach (var (category, _, appliesToImages) in Categories)
                {
                    w.WriteStartArray(category);
                    w.WriteStringValue("text");
                    if (hasImage && appliesToImages) w.WriteStringValue("image");
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        return context.Done(default);
    }

    private static (string, bool) Multimodal(JsonElement parts)
    {
        var text = new List<string>();
        var hasImage = false;
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object) continue;
            if (part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text.Add(t.GetString()!);
            if (part.TryGetProperty("image_url", out _)) hasImage = true;
        }
        return (string.Join('\n', text), hasImage);
    }

    private static bool ContainsWord(string text, string phrase)
    {
        var start = 0;
        while ((start = text.IndexOf(phrase, start, StringComparison.Ordinal)) >= 0)
        {
            var end = start + phrase.Length;
            if ((start == 0 || !char.IsLetter(text[start - 1])) && (end == text.Length || !char.IsLetter(text[end]))) return true;
            start = end;
        }
        return false;
    }
}
