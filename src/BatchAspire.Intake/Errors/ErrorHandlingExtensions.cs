using System.Diagnostics;
using System.Globalization;
using BatchAspire.Intake.Auth;
using Microsoft.AspNetCore.Diagnostics;

namespace BatchAspire.Intake.Errors;

public static class ErrorHandlingExtensions
{
    /// <summary>
    /// Gives every response an <c>x-request-id</c> and <c>openai-processing-ms</c> (docs/openai/errors.md §5), turns
    /// exceptions into a 500 envelope, and answers every body-less error status (unknown route 404,
    /// 405, 415, model-binding 400, …) with the envelope too, so no SDK ever sees a bare status.
    /// </summary>
    public static WebApplication UseOpenAIErrors(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            var requestId = "req_" + Guid.NewGuid().ToString("N");
            context.TraceIdentifier = requestId;
            var started = Stopwatch.GetTimestamp();
            // OnStarting, because the exception handler clears headers set earlier.
            context.Response.OnStarting(() =>
            {
                context.Response.Headers["x-request-id"] = requestId;
                context.Response.Headers["openai-processing-ms"] =
                    ((long)Stopwatch.GetElapsedTime(started).TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });
            return next(context);
        });

        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = static context =>
            {
                var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                return error switch
                {
                    BadHttpRequestException bad => OpenAIErrors.WriteAsync(context, bad.StatusCode, BadRequestMessage(bad)),
                    _ => OpenAIErrors.WriteAsync(context, StatusCodes.Status500InternalServerError,
                        "The server had an error while processing your request. Sorry about that!", type: OpenAIErrors.ServerError),
                };
            },
        });

        app.UseStatusCodePages(static statusContext =>
        {
            var context = statusContext.HttpContext;
            var request = context.Request;
            var status = context.Response.StatusCode;
            return status switch
            {
                StatusCodes.Status401Unauthorized => ApiKeyAuthenticationHandler.WriteChallengeAsync(context),
                StatusCodes.Status404NotFound => OpenAIErrors.WriteAsync(context, status, $"Invalid URL ({request.Method} {request.Path})"),
                StatusCodes.Status405MethodNotAllowed => OpenAIErrors.WriteAsync(context, status, $"Invalid method for URL ({request.Method} {request.Path})"),
                >= 500 => OpenAIErrors.WriteAsync(context, status, "The server had an error while processing your request.", type: OpenAIErrors.ServerError),
                _ => OpenAIErrors.WriteAsync(context, status, $"The request could not be processed ({status} {ReasonPhrases(status)})."),
            };
        });
        return app;
    }

    private static string BadRequestMessage(BadHttpRequestException exception) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => "Request body too large.",
        _ => "We could not parse your request. " + exception.Message,
    };

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
