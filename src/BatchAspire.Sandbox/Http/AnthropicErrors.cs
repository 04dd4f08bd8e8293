using System.Text.Json;

namespace BatchAspire.Sandbox.Http;

/// <summary>
/// Anthropic's error shape <c>{"type":"error","error":{"type","message"}}</c>, answered on <c>/v1/messages/…</c>
/// instead of the OpenAI envelope, because the Anthropic SDKs read exactly that shape.
/// </summary>
public sealed class AnthropicError(int status, string message, string? type = null) : IResult
{
    public int StatusCode => status;
    public string Type => type ?? TypeFor(status);
    public string Message => message;
    public Dictionary<string, string> Headers { get; } = [];

    public AnthropicError WithHeader(string name, string value)
    {
        Headers[name] = value;
        return this;
    }

    /// <summary>The error type the real API gives each status.</summary>
    public static string TypeFor(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        foreach (var (name, value) in Headers) response.Headers[name] = value;
        using (var writer = new Utf8JsonWriter(response.BodyWriter, WireJson.Options))
        {
            Write(writer, Type, message);
        }
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    /// <summary>The error body; also the <c>error</c> of an errored result line.</summary>
    public static void Write(Utf8JsonWriter writer, string type, string message)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "error");
        writer.WriteStartObject("error");
        writer.WriteString("type", type);
        writer.WriteString("message", message);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}

public static class AnthropicErrors
{
    /// <summary>Where Anthropic's API is served; errors there use its shape.</summary>
    public static bool IsAnthropicPath(PathString path) => path.StartsWithSegments("/v1/messages");

    public static AnthropicError BadRequest(string message) => new(StatusCodes.Status400BadRequest, message);

    public static AnthropicError BatchNotFound(string batchId) =>
        new(StatusCodes.Status404NotFound, $"No Message Batch found with id '{batchId}'.");

    /// <summary>The Anthropic form of an error the pipeline made in the OpenAI form (routing, auth, faults).</summary>
    public static AnthropicError From(OpenAIError error)
    {
        var anthropic = new AnthropicError(error.StatusCode, error.StatusCode == StatusCodes.Status401Unauthorized
            ? "invalid x-api-key"
            : error.Message);
        foreach (var (name, value) in error.Headers) anthropic.WithHeader(name, value);
        return anthropic;
    }
}
