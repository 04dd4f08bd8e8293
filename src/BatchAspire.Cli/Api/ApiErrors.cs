using System.ClientModel;
using System.Net.Sockets;
using System.Text.Json;

namespace BatchAspire.Cli.Api;

/// <summary>
/// Turns what the SDK throws into the tool's messages: the server's own error message and code when it answered
/// (the OpenAI error envelope, docs/openai/errors.md §1), "cannot reach" when it did not.
/// </summary>
internal static class ApiErrors
{
    public static CliException Translate(Exception exception, Uri baseUrl, CancellationToken ct) => exception switch
    {
        ClientResultException { Status: > 0 } answered => FromAnswer(answered),
        ClientResultException or HttpRequestException or SocketException => Unreachable(baseUrl, Innermost(exception).Message),
        // The SDK's network timeout, not the user's Ctrl+C.
        OperationCanceledException when !ct.IsCancellationRequested => Unreachable(baseUrl, "no answer in time"),
        _ => throw exception,
    };

    private static CliException Unreachable(Uri baseUrl, string why) =>
        new(ExitCodes.Unreachable, $"Cannot reach the server at {baseUrl}: {why}");

    private static CliException FromAnswer(ClientResultException exception)
    {
        var (message, code, type) = ReadEnvelope(exception);
        var details = string.Join(", ", new[] { type, code is null ? null : $"code {code}" }.Where(s => !string.IsNullOrEmpty(s)));
        var text = $"The server answered HTTP {exception.Status}: {message}" + (details.Length > 0 ? $" ({details})" : "");
        if (exception.Status == 401) text += ". Check OPENAI_API_KEY or --api-key.";
        return new CliException(ExitCodes.ApiError, text);
    }

    /// <summary>The envelope's message, code and type; a body that is not an envelope is shown as text, cut short.</summary>
    private static (string Message, string? Code, string? Type) ReadEnvelope(ClientResultException exception)
    {
        var body = exception.GetRawResponse()?.Content?.ToString() ?? "";
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object)
            {
                return (Text(error, "message") ?? body, Text(error, "code"), Text(error, "type"));
            }
        }
        catch (JsonException)
        {
        }
        body = body.Trim();
        return (body.Length == 0 ? "(no body)" : body.Length > 300 ? body[..300] + "…" : body, null, null);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : null;

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is not null) exception = exception.InnerException;
        return exception;
    }
}
