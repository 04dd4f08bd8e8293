using System.Text;
using System.Text.Json;

namespace BatchAspire.Cli.Tests.Support;

/// <summary>JSONL files of small chat requests in a test's own folder.</summary>
public sealed class Requests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("batchaspire-cli-test-");

    public string Folder => _folder.FullName;

    public string Write(int count, string prefix = "r", string url = "/v1/chat/completions")
    {
        var text = new StringBuilder();
        for (var i = 0; i < count; i++) text.Append(Line($"{prefix}-{i}", url)).Append('\n');
        return WriteText($"{prefix}.jsonl", text.ToString());
    }

    public string WriteText(string name, string text)
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }

    public static string Line(string customId, string url = "/v1/chat/completions") => JsonSerializer.Serialize(new
    {
        custom_id = customId,
        method = "POST",
        url,
        body = new { model = "gpt-5-nano", messages = new[] { new { role = "user", content = $"Classify the sentiment of review {customId}: I love it." } }, max_tokens = 10 },
    });

    public void Dispose()
    {
        try { _folder.Delete(recursive: true); } catch (IOException) { }
    }
}
