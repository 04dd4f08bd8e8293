using System.Text;

namespace BatchAspire.Testing.Pipeline;

/// <summary>
/// Request lines as a user writes them (the seed's chat classification shape), for jobs run through
/// <see cref="PipelineHost"/>; <see cref="TestJsonl"/> builds the files the stores and the intake are tested with.
/// </summary>
public static class PipelineJsonl
{
    public const string Model = "gpt-5-nano";
    public const string Endpoint = "/v1/chat/completions";

    public static string CustomId(int i) => $"req-{i}";

    public static string Request(int i, int padding = 0, int maxCompletionTokens = 20) =>
        "{\"custom_id\":\"" + CustomId(i) + "\",\"method\":\"POST\",\"url\":\"" + Endpoint + "\",\"body\":{\"model\":\"" + Model +
        "\",\"messages\":[{\"role\":\"user\",\"content\":\"Classify the sentiment of review " + i + ": great value" + new string('x', padding) +
        "\"}],\"max_completion_tokens\":" + maxCompletionTokens + "}}";

    public static byte[] File(int count, int padding = 0)
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++) text.Append(Request(i, padding)).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
