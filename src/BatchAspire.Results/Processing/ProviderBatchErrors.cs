using System.Text.Json;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;

namespace BatchAspire.Results.Processing;

/// <summary>
/// A provider batch's own errors (<c>errors.data[]</c>, kept on the chunk by the poller), read once: what a chunk's
/// requests that the provider said nothing about should become.
/// </summary>
internal sealed class ProviderBatchErrors
{
    private readonly List<(long? Line, string? Code, string? Message)> _errors;
    private readonly bool _failed;

    private ProviderBatchErrors(List<(long? Line, string? Code, string? Message)> errors, bool failed) => (_errors, _failed) = (errors, failed);

    /// <summary>The chunk's provider errors, or none (no errors, or a list that is not JSON).</summary>
    public static ProviderBatchErrors Of(ChunkRecord chunk)
    {
        var errors = new List<(long?, string?, string?)>();
        if (chunk[ChunkPollFields.ProviderErrors] is { Length: > 0 } json)
        {
            try
            {
                using var document = JsonDocument.Parse(json);
                foreach (var error in document.RootElement.EnumerateArray())
                {
                    long? line = error.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number && l.TryGetInt64(out var n) ? n : null;
                    errors.Add((line, Text(error, "code"), Text(error, "message")));
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                errors.Clear();
            }
        }
        return new ProviderBatchErrors(errors, chunk.Status == JobStatus.Failed);
    }

    /// <summary>The batch failed because the provider's queue for the model was full: its requests were not tried.</summary>
    public bool IsCapacityRefusal => _failed && _errors.Any(e => e.Code == "token_limit_exceeded");

    /// <summary>The first error's code, if any has one.</summary>
    public string? FirstCode => _errors.Select(e => e.Code).FirstOrDefault(c => c is { Length: > 0 });

    /// <summary>
    /// Request index → the provider's code and message, when a failed batch's errors all name a line of the chunk's
    /// upload (1-based, in the chunk's line order); null when any error is about the batch as a whole.
    /// </summary>
    public Dictionary<long, (string Code, string Message)>? RefusedLines(long[] lines)
    {
        if (!_failed || _errors.Count == 0) return null;
        var refused = new Dictionary<long, (string, string)>();
        foreach (var (line, code, message) in _errors)
        {
            if (line is not { } number || number < 1 || number > lines.Length) return null;
            refused.TryAdd(lines[number - 1], (code is { Length: > 0 } ? code : "invalid_request",
                message is { Length: > 0 } ? message : "The provider refused this request."));
        }
        return refused;
    }

    private static string? Text(JsonElement error, string name) =>
        error.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
