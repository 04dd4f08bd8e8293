using System.Text.Json;

namespace BatchAspire.Testing.Pipeline;

/// <summary>Reads result lines the way a user of the output and error files would.</summary>
public static class ResultFiles
{
    public static string CustomId(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("custom_id").GetString()!;
    }

    public static int? StatusCode(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("response") is { ValueKind: JsonValueKind.Object } response
            ? response.GetProperty("status_code").GetInt32()
            : null;
    }

    public static string? ErrorCode(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("error") is { ValueKind: JsonValueKind.Object } error
            ? error.GetProperty("code").GetString()
            : null;
    }

    /// <summary>Line index of a custom_id written by <see cref="PipelineJsonl.Request"/>.</summary>
    public static int IndexOf(string customId) => int.Parse(customId.AsSpan("req-".Length));

    /// <summary>Asserts the files hold every custom_id of the input exactly once and each file is in input order.</summary>
    public static void AssertEveryRequestOnceInInputOrder(long total, IReadOnlyList<string> output, IReadOnlyList<string> errors)
    {
        var outputIndexes = output.Select(l => IndexOf(CustomId(l))).ToList();
        var errorIndexes = errors.Select(l => IndexOf(CustomId(l))).ToList();
        Assert.Equal(outputIndexes.Order(), outputIndexes);
        Assert.Equal(errorIndexes.Order(), errorIndexes);
        var all = outputIndexes.Concat(errorIndexes).Order().ToList();
        Assert.Equal(Enumerable.Range(0, (int)total), all);
    }
}
