using System.Buffers;
using System.Globalization;
using System.Text.Json;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Translation;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// For a model whose route sends it to Anthropic first: every line goes through <see cref="AnthropicRequestTranslator"/>
/// (as the submitter will send it: the line index as custom_id), and a line that does not translate is a line error
/// (<c>invalid_value</c>, the translator's message naming the field, the line's number), as other line errors are.
/// Reads the file once, a line at a time.
/// </summary>
internal static class AnthropicLineCheck
{
    private const int MaxReported = 100;

    public static async Task<IReadOnlyList<LineError>> EvaluateAsync(IFileStore files, StoredFile file, CancellationToken ct)
    {
        var errors = new List<LineError>();
        var buffer = new ArrayBufferWriter<byte>(4096);
        await using var writer = new Utf8JsonWriter(buffer);
        long index = 0;
        await foreach (var line in files.ReadLinesAsync(file.Id, 0, file.Lines, ct))
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var json = line.Span.StartsWith("\uFEFF"u8) ? line[3..] : line;
            // The line checks before this one passed: every line is a JSON object.
            using var document = JsonDocument.Parse(json);
            if (!AnthropicRequestTranslator.TryTranslate(document.RootElement, writer, out var error, customId: index.ToString(CultureInfo.InvariantCulture)))
            {
                errors.Add(new LineError(LineErrorCodes.InvalidValue,
                    $"This request cannot be sent to the provider its model is routed to (Anthropic): {error}.", Param(error), index + 1));
                if (errors.Count == MaxReported) break;
            }
            index++;
        }
        return errors;
    }

    // The translator's message starts with the field it names ("body.n: ..."); that is the error's param.
    private static string? Param(string error) => error.IndexOf(':') is > 0 and var colon && !error[..colon].Contains(' ') ? error[..colon] : null;
}
