using System.Text;
using System.Text.Json;

namespace BatchAspire.Testing;

/// <summary>
/// The seed guide's end-to-end text-classification data (shared/seed/batch-api-guide.md): its five
/// reviews, the sentiment each should get, and its input file, one request per review.
/// </summary>
public static class SeedReviews
{
    public static readonly IReadOnlyList<string> Texts =
    [
        "I love this product! It's amazing!",
        "Terrible experience, would not recommend.",
        "It's okay, nothing special.",
        "Best purchase I've ever made!",
        "Waste of money.",
    ];

    public static readonly IReadOnlyList<string> ExpectedSentiments = ["positive", "negative", "neutral", "positive", "negative"];

    /// <summary>The guide's batch input: <c>request-{i}</c>, gpt-5-nano, the classify-sentiment prompt, max_tokens 10.</summary>
    public static string Jsonl()
    {
        var lines = new StringBuilder();
        for (var i = 0; i < Texts.Count; i++)
        {
            lines.Append(JsonSerializer.Serialize(new
            {
                custom_id = $"request-{i}",
                method = "POST",
                url = "/v1/chat/completions",
                body = new
                {
                    model = "gpt-5-nano",
                    messages = new object[]
                    {
                        new { role = "system", content = "Classify sentiment as: positive, negative, or neutral" },
                        new { role = "user", content = Texts[i] },
                    },
                    max_tokens = 10,
                },
            })).Append('\n');
        }
        return lines.ToString();
    }
}
