using System.Text.Json;

namespace BatchAspire.Sandbox.Http;

/// <summary>
/// The OpenAI error envelope <c>{"error":{"message","type","param","code"}}</c>, always with all four
/// keys, because every official SDK parses exactly that shape.
/// </summary>
public sealed class OpenAIError(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : IResult
{
    public int StatusCode => status;
    public string Message => message;
    public Dictionary<string, string> Headers { get; } = [];

    public OpenAIError WithHeader(string name, string value)
    {
        Headers[name] = value;
        return this;
    }

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        foreach (var (name, value) in Headers) response.Headers[name] = value;
        await WriteAsync(response.BodyWriter);
    }

    public async ValueTask WriteAsync(System.IO.Pipelines.PipeWriter body)
    {
        using (var writer = new Utf8JsonWriter(body, WireJson.Options))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("error");
            writer.WriteString("message", message);
            writer.WriteString("type", type);
            writer.WriteString("param", param);
            writer.WriteString("code", code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        await body.FlushAsync();
    }
}

public static class OpenAIErrors
{
    public static OpenAIError BadRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, param: param, code: code);

    public static OpenAIError MissingParameter(string param) =>
        BadRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static OpenAIError FileNotFound(string fileId, string param = "id") =>
        new(StatusCodes.Status404NotFound, $"No such File object: {fileId}", param: param);

    public static OpenAIError BatchNotFound(string batchId) =>
        new(StatusCodes.Status404NotFound, $"No batch found with id '{batchId}'.");

    public static OpenAIError InvalidUrl(HttpRequest request) =>
        new(StatusCodes.Status404NotFound, $"Invalid URL ({request.Method} {request.Path})");

    public static OpenAIError InvalidApiKey() =>
        new(StatusCodes.Status401Unauthorized,
            "Incorrect API key provided. You can find your API key in the sandbox configuration (Sandbox:ApiKey).",
            code: "invalid_api_key");

    public static OpenAIError RateLimited(int retryAfterSeconds) =>
        new OpenAIError(StatusCodes.Status429TooManyRequests,
                "Rate limit reached (sandbox fault injection). Please try again later.",
                type: "requests", code: "rate_limit_exceeded")
            .WithHeader("Retry-After", retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithHeader("retry-after-ms", (retryAfterSeconds * 1000L).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static OpenAIError ServerError(string message = "The server had an error while processing your request. Sorry about that!") =>
        new(StatusCodes.Status500InternalServerError, message, type: "server_error");
}
