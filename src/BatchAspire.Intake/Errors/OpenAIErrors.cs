namespace BatchAspire.Intake.Errors;

/// <summary>The inner object of OpenAI's error envelope; all four keys are always written.</summary>
public sealed record OpenAIError(string Message, string Type, string? Param, string? Code);

/// <summary>OpenAI's error envelope <c>{"error":{message,type,param,code}}</c> (errors.md §1), which every SDK parses.</summary>
public sealed record OpenAIErrorResponse(OpenAIError Error);

/// <summary>Error results in OpenAI's envelope. We answer with it rather than ProblemDetails because the SDKs read it.</summary>
public static class OpenAIErrors
{
    public const string InvalidRequestError = "invalid_request_error";
    public const string ServerError = "server_error";
    public const string InvalidApiKey = "invalid_api_key";

    public static IResult Create(int status, string message, string? param = null, string? code = null, string type = InvalidRequestError) =>
        TypedResults.Json(new OpenAIErrorResponse(new OpenAIError(message, type, param, code)), IntakeJson.Default.OpenAIErrorResponse, statusCode: status);

    /// <summary>The real API's body for an unknown file (files.md §4); also what another tenant's file id gets.</summary>
    public static IResult FileNotFound(string fileId, string param = "id") => Create(StatusCodes.Status404NotFound, $"No such File object: {fileId}", param);

    /// <summary>Unknown batch (or another tenant's): errors.md's suggested text.</summary>
    public static IResult BatchNotFound(string batchId) => Create(StatusCodes.Status404NotFound, $"No batch found with id '{batchId}'.");

    public static IResult Missing(string param) =>
        Create(StatusCodes.Status400BadRequest, $"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static IResult Invalid(string param, string message) =>
        Create(StatusCodes.Status400BadRequest, message, param, "invalid_value");

    public static IResult BadRequest(string message, string? param = null, string? code = null) =>
        Create(StatusCodes.Status400BadRequest, message, param, code);

    /// <summary>The real API's answer to a batch upload over its limit (files.md §2.2).</summary>
    public static IResult FileTooLarge() => BadRequest("File is too large.");

    public static Task WriteAsync(HttpContext context, int status, string message, string? param = null, string? code = null, string type = InvalidRequestError)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new OpenAIErrorResponse(new OpenAIError(message, type, param, code)),
            IntakeJson.Default.OpenAIErrorResponse, contentType: "application/json");
    }
}
