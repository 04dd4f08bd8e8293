using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using BatchAspire.Sandbox.Faults;
using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Http;

/// <summary>
/// Cross-cutting behaviour of every API response: <c>x-request-id</c>, the error envelope for
/// anything that fails (including routing 404/405 and bad requests), bearer auth and injected API faults.
/// Under <c>/v1/messages</c> (Anthropic's API) errors take Anthropic's shape, the key may come as <c>x-api-key</c>,
/// and <c>anthropic-version</c> is required, as on the real API. Under <c>/openai</c> (an Azure OpenAI resource's surface,
/// <see cref="AzureSurface"/>) the key comes only in the <c>api-key</c> header.
/// </summary>
public static class SandboxPipeline
{
    private const string ProjectItem = "sandbox.project";

    public static WebApplication UseSandboxPipeline(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SandboxOptions>>().Value;
        var faults = app.Services.GetRequiredService<FaultState>();
        var stats = app.Services.GetRequiredService<SandboxStats>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BatchAspire.Sandbox.Http");

        app.Use(async (context, next) =>
        {
            var started = Stopwatch.GetTimestamp();
            var response = context.Response;
            var requestId = Storage.Ids.NewRequestId();
            response.Headers["x-request-id"] = requestId;
            if (AnthropicErrors.IsAnthropicPath(context.Request.Path)) response.Headers["request-id"] = requestId;
            response.Headers["openai-version"] = "2020-10-01";
            response.OnStarting(() =>
            {
                response.Headers["openai-processing-ms"] =
                    ((long)Stopwatch.GetElapsedTime(started).TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Task.CompletedTask;
            });

            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e) when (!response.HasStarted)
            {
                await SendAsync(context, new OpenAIError(e.StatusCode, e.Message));
                return;
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!response.HasStarted)
            {
                SandboxHttpLog.Unhandled(logger, e, context.Request.Method, context.Request.Path);
                await SendAsync(context, OpenAIErrors.ServerError());
                return;
            }

            if (!response.HasStarted && response.StatusCode >= 400 && response.ContentLength is null && response.ContentType is null)
            {
                var error = response.StatusCode is 404 or 405
                    ? OpenAIErrors.InvalidUrl(context.Request)
                    : new OpenAIError(response.StatusCode, $"Request failed with status {response.StatusCode}.");
                await SendAsync(context, error);
            }
        });

        app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (IsHealth(path))
            {
                await next(context);
                return;
            }
            var azure = AzureSurface.IsAzurePath(path);
            var token = azure ? AzureKey(context.Request) : ApiKey(context.Request);
            if (azure && (token is null || (options.ApiKey is { Length: > 0 } azureKey && !FixedTimeEquals(token, azureKey))))
            {
                await AzureSurface.Unauthorized().ExecuteAsync(context);
                return;
            }
            if (options.ApiKey is { Length: > 0 } key && !FixedTimeEquals(token, key))
            {
                await SendAsync(context, OpenAIErrors.InvalidApiKey());
                return;
            }
            if (AnthropicErrors.IsAnthropicPath(path) && string.IsNullOrEmpty(context.Request.Headers["anthropic-version"]))
            {
                await AnthropicErrors.BadRequest("anthropic-version: header is required").ExecuteAsync(context);
                return;
            }
            context.Items[ProjectItem] = ProjectOf(token);

            if (!path.StartsWithSegments(AdminApi.Prefix))
            {
                var (status, retryAfter) = faults.TakeApiFault(context.Request.Method, path.Value ?? "/");
                if (status != 0)
                {
                    stats.ApiFault(status);
                    await SendAsync(context, status == 429 ? OpenAIErrors.RateLimited(retryAfter) : OpenAIErrors.ServerError());
                    return;
                }
                // After the handler has done its work, before the first byte of the answer: the outcome exists, the
                // caller does not know it yet (a lost create answer, a download that stalls).
                if (faults.TakeResponseDelay(context.Request.Method, path.Value ?? "/") is > 0 and var delayMs)
                {
                    context.Response.OnStarting(() => Task.Delay(delayMs, context.RequestAborted));
                }
            }
            await next(context);
        });
        return app;
    }

    /// <summary>
    /// Each bearer token is its own project (like separate OpenAI projects): files and batches are
    /// visible only to the token that created them. Only a hash of the token is kept.
    /// </summary>
    public static string Project(this HttpContext context) =>
        context.Items[ProjectItem] as string
        ?? ProjectOf(AzureSurface.IsAzurePath(context.Request.Path) ? AzureKey(context.Request) : ApiKey(context.Request));

    private static Task SendAsync(HttpContext context, OpenAIError error) =>
        AnthropicErrors.IsAnthropicPath(context.Request.Path)
            ? AnthropicErrors.From(error).ExecuteAsync(context)
            : error.ExecuteAsync(context);

    private static string ProjectOf(string? token) =>
        token is null ? "anonymous" : "p_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)).AsSpan(0, 12));

    /// <summary>
    /// Azure's <c>api-key</c> header; nothing else counts (a Bearer on Azure is a Microsoft Entra token, which the Sandbox
    /// does not issue). The same key is the same project on either surface.
    /// </summary>
    private static string? AzureKey(HttpRequest request) =>
        request.Headers[AzureSurface.ApiKeyHeader].ToString() is { Length: > 0 } key ? key : null;

    /// <summary>The bearer token, or else Anthropic's <c>x-api-key</c>: one key is one project whichever header carries it.</summary>
    private static string? ApiKey(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header[7..].Trim();
        return request.Headers["x-api-key"].ToString() is { Length: > 0 } key ? key : null;
    }

    private static bool FixedTimeEquals(string? presented, string expected) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(expected));

    private static bool IsHealth(PathString path) =>
        path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.HealthEndpointPath) ||
        path.StartsWithSegments(Microsoft.Extensions.Hosting.Extensions.AlivenessEndpointPath);
}

internal static partial class SandboxHttpLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Method} {Path}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
