using BatchAspire.Core.Tenants;

namespace BatchAspire.Intake.Errors;

/// <summary>The inner object of OpenAI's error envelope; all four keys are always written.</summary>
public sealed record OpenAIError(string Message, string Type, string? Param, string? Code);

/// <summary>OpenAI's error envelope <c>{"error":{message,type,param,code}}</c> (docs/openai/errors.md §1), which every SDK parses.</summary>
public sealed record OpenAIErrorResponse(OpenAIError Error);

/// <summary>Error results in OpenAI's envelope. We answer with it rather than ProblemDetails because the SDKs read it.</summary>
public static class OpenAIErrors
{
    public const string InvalidRequestError = "invalid_request_error";
    public const string ServerError = "server_error";
    public const string InvalidApiKey = "invalid_api_key";

    public static IResult Create(int status, string message, string? param = null, string? code = null, string type = InvalidRequestError) =>
        TypedResults.Json(new OpenAIErrorResponse(new OpenAIError(message, type, param, code)), IntakeJson.Default.OpenAIErrorResponse, statusCode: status);

    /// <summary>The real API's body for an unknown file (docs/openai/files.md §4); also what another tenant's file id gets.</summary>
    public static IResult FileNotFound(string fileId, string param = "id") => Create(StatusCodes.Status404NotFound, $"No such File object: {fileId}", param);

    /// <summary>Unknown batch (or another tenant's): docs/openai/errors.md's suggested text.</summary>
    public static IResult BatchNotFound(string batchId) => Create(StatusCodes.Status404NotFound, $"No batch found with id '{batchId}'.");

    public static IResult Missing(string param) =>
        Create(StatusCodes.Status400BadRequest, $"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static IResult Invalid(string param, string message) =>
        Create(StatusCodes.Status400BadRequest, message, param, "invalid_value");

    public static IResult BadRequest(string message, string? param = null, string? code = null) =>
        Create(StatusCodes.Status400BadRequest, message, param, code);

    /// <summary>The real API's answer to a batch upload over its limit (docs/openai/files.md §2.2).</summary>
    public static IResult FileTooLarge() => BadRequest("File is too large.");

    /// <summary>
    /// A tenant quota (docs/intake.md): storage limits answer 400 (they free only when the tenant deletes files); open-work
    /// limits answer 429 with Retry-After, as the API does for its own rate limits, since they free as batches end.
    /// </summary>
    public static IResult QuotaExceeded(QuotaExceededException e) =>
        e.Limit is QuotaLimit.StoredBytes or QuotaLimit.Files
            ? Create(StatusCodes.Status400BadRequest, e.Message, null, "quota_exceeded")
            : new RetryAfterResult(Create(StatusCodes.Status429TooManyRequests, e.Message, null, "quota_exceeded"), 30);

    /// <summary>The blob store has no room: nothing was stored (a server-side condition, so a 5xx the SDKs retry).</summary>
    public static IResult StorageFull() =>
        Create(StatusCodes.Status507InsufficientStorage, "The server has no room to store this file right now; nothing was stored. Try again later.",
            null, "storage_full", ServerError);

    /// <summary>The blob store did not answer: nothing was stored (a 5xx the SDKs retry).</summary>
    public static IResult StorageUnavailable() =>
        Create(StatusCodes.Status503ServiceUnavailable, "The file store did not answer; nothing was stored. Try again shortly.",
            null, "storage_unavailable", ServerError);

    /// <summary>Adds <c>Retry-After</c> and <c>retry-after-ms</c> (docs/openai/errors.md: all three SDKs then wait).</summary>
    private sealed class RetryAfterResult(IResult inner, int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            http.Response.Headers["retry-after-ms"] = (seconds * 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(http);
        }
    }

    public static Task WriteAsync(HttpContext context, int status, string message, string? param = null, string? code = null, string type = InvalidRequestError)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new OpenAIErrorResponse(new OpenAIError(message, type, param, code)),
            IntakeJson.Default.OpenAIErrorResponse, contentType: "application/json");
    }
}
