using System.Text;
using System.Text.Json;

namespace BatchAspire.Sandbox.Bench;

internal sealed record InputFile(string Path, int Lines, long Bytes);

internal static class InputFiles
{
    private static readonly string[] Reviews =
    [
        "I love this product! It's amazing!",
        "Terrible experience, would not recommend.",
        "It's okay, nothing special.",
        "Best purchase I've ever made!",
        "Waste of money.",
    ];

    private const string Filler = "The delivery came on time and the box was intact. I have used it every day since then, at home and at work. ";

    /// <summary>Sentiment requests as the seed builds them; with <paramref name="bytes"/> each review is padded so the file has about that size.</summary>
    public static InputFile Write(string path, int lines, long? bytes)
    {
        var target = bytes is { } b ? (int)(b / lines) : 0;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var builder = new StringBuilder();
        for (var i = 0; i < lines; i++)
        {
            var review = Reviews[i % Reviews.Length] + $" (#{i})";
            var line = Line(i, review);
            if (target > line.Length + 1)
            {
                builder.Clear().Append(Reviews[i % Reviews.Length]).Append(" (#").Append(i).Append(") ");
                while (builder.Length < target - line.Length + review.Length - 1) builder.Append(Filler);
                builder.Length = target - line.Length + review.Length - 1;
                line = Line(i, builder.ToString());
            }
            stream.Write(Encoding.UTF8.GetBytes(line + "\n"));
        }
        return new InputFile(path, lines, stream.Length);
    }

    private static string Line(int i, string review) => JsonSerializer.Serialize(new
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
                new { role = "user", content = review },
            },
            max_tokens = 10,
        },
    });
}
