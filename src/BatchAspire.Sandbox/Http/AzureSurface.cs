using System.Text.Json;

namespace BatchAspire.Sandbox.Http;

/// <summary>
/// An Azure OpenAI resource's v1 surface (<c>/openai/v1/files</c>, <c>/openai/v1/batches</c>): the same Files and Batches
/// API, with Azure's differences that matter to a caller. The key comes in the <c>api-key</c> header (a missing or wrong
/// one is a 401 in Azure's error shape), <c>model</c> names a deployment (any name is one here), a batch takes up to
/// 100,000 lines, and a batch's <c>endpoint</c> and its lines' <c>url</c> may leave out <c>/v1</c>, as Azure's guides write them.
/// </summary>
public static class AzureSurface
{
    public const string Prefix = "/openai/v1";

    /// <summary>The header an Azure OpenAI resource reads its key from.</summary>
    public const string ApiKeyHeader = "api-key";

    /// <summary>Azure's cap on requests in one batch file (OpenAI's is 50,000).</summary>
    public const int MaxRequests = 100_000;

    public static bool IsAzurePath(PathString path) => path.StartsWithSegments("/openai");

    /// <summary><c>/chat/completions</c> → <c>/v1/chat/completions</c>: Azure's guides write both, the service reads them alike.</summary>
    public static string Normalize(string url) => url.StartsWith("/v1/", StringComparison.Ordinal) ? url : "/v1" + url;

    /// <summary>What an Azure OpenAI resource answers a request without a valid <c>api-key</c>.</summary>
    public static IResult Unauthorized() => new AzureError(StatusCodes.Status401Unauthorized, "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active " +
        "subscription and use a correct regional API endpoint for your resource.");

    /// <summary>Azure's own error shape, <c>{"error":{"code","message"}}</c> with the status as a string code.</summary>
    private sealed class AzureError(int status, string code, string message) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            response.ContentType = "application/json";
            using (var writer = new Utf8JsonWriter(response.BodyWriter, WireJson.Options))
            {
                writer.WriteStartObject();
                writer.WriteStartObject("error");
                writer.WriteString("code", code);
                writer.WriteString("message", message);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
        }
    }
}
