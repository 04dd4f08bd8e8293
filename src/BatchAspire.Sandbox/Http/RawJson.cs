namespace BatchAspire.Sandbox.Http;

/// <summary>A 200 <c>application/json</c> response from bytes serialised while a lock was held.</summary>
public sealed class RawJson(byte[] json, int statusCode = StatusCodes.Status200OK) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json";
        httpContext.Response.ContentLength = json.Length;
        await httpContext.Response.Body.WriteAsync(json, httpContext.RequestAborted);
    }
}
