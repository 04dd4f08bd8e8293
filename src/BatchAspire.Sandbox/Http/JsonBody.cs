using System.Text.Json;

namespace BatchAspire.Sandbox.Http;

/// <summary>A 200 <c>application/json</c> response written straight to the body pipe by a writer callback.</summary>
public sealed class JsonBody(Action<Utf8JsonWriter> write) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        using (var writer = new Utf8JsonWriter(response.BodyWriter, WireJson.Options))
        {
            write(writer);
        }
        await response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }
}
