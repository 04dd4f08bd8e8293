using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace BatchAspire.Conformance;

/// <summary>Assertions on the wire format of docs/openai/*.md.</summary>
public static partial class Wire
{
    public static readonly string[] Statuses =
        ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"];

    public static readonly string[] Timestamps =
        ["created_at", "in_progress_at", "expires_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at", "cancelled_at"];

    [GeneratedRegex("^file-[A-Za-z0-9]+$")] public static partial Regex FileId();
    [GeneratedRegex("^batch_[A-Za-z0-9]+$")] public static partial Regex BatchId();

    public static async Task<JsonElement> AssertOkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(200 == (int)response.StatusCode, $"Expected 200, got {(int)response.StatusCode}: {text}");
        AssertJsonResponseHeaders(response);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts the OpenAI error envelope: the status, all four keys with the right types, JSON content type, x-request-id.</summary>
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {text}");
        AssertJsonResponseHeaders(response);
        using var document = JsonDocument.Parse(text);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, error.GetProperty("message").ValueKind);
        Assert.NotEmpty(error.GetProperty("message").GetString()!);
        Assert.Equal(JsonValueKind.String, error.GetProperty("type").ValueKind);
        Assert.Contains(error.GetProperty("param").ValueKind, new[] { JsonValueKind.String, JsonValueKind.Null });
        Assert.Contains(error.GetProperty("code").ValueKind, new[] { JsonValueKind.String, JsonValueKind.Null });
        return error.Clone();
    }

    public static void AssertJsonResponseHeaders(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        AssertRequestId(response);
    }

    public static void AssertRequestId(HttpResponseMessage response)
    {
        Assert.True(response.Headers.TryGetValues("x-request-id", out var ids), "x-request-id header missing");
        Assert.False(string.IsNullOrWhiteSpace(ids.Single()));
    }

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).GetString()!;

    public static bool IsNull(this JsonElement element, string name) => element.GetProperty(name).ValueKind == JsonValueKind.Null;

    public static long Int(this JsonElement element, string name)
    {
        var value = element.GetProperty(name);
        Assert.Equal(JsonValueKind.Number, value.ValueKind);
        Assert.True(value.TryGetInt64(out var number), $"'{name}' is not an integer: {value.GetRawText()}");
        return number;
    }

    public static (long Total, long Completed, long Failed) Counts(this JsonElement batch)
    {
        var counts = batch.GetProperty("request_counts");
        return (counts.Int("total"), counts.Int("completed"), counts.Int("failed"));
    }

    /// <summary>Every status in the enum and every timestamp a JSON integer or null (items 44–45).</summary>
    public static void AssertBatchShape(JsonElement batch)
    {
        Assert.Equal("batch", batch.Str("object"));
        Assert.Matches(BatchId(), batch.Str("id"));
        Assert.Contains(batch.Str("status"), Statuses);
        foreach (var name in Timestamps)
        {
            var value = batch.GetProperty(name);
            if (value.ValueKind != JsonValueKind.Null) batch.Int(name);
        }
        batch.Int("created_at");
        var (total, completed, failed) = batch.Counts();
        Assert.True(completed + failed <= total || total == 0 && completed + failed == 0, $"counts {completed}+{failed} > {total}");
    }

    /// <summary>Parses a result file: no blank lines, a final newline, one JSON object per line (docs/openai/lines.md §4).</summary>
    public static List<JsonElement> ParseJsonl(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        if (text.Length == 0) return [];
        Assert.EndsWith("\n", text);
        var lines = text[..^1].Split('\n');
        var result = new List<JsonElement>(lines.Length);
        foreach (var line in lines)
        {
            Assert.False(string.IsNullOrWhiteSpace(line), "result files must not contain blank lines");
            using var document = JsonDocument.Parse(line);
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
            result.Add(document.RootElement.Clone());
        }
        return result;
    }
}
