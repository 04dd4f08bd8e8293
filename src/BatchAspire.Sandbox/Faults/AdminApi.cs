using System.Text.Json;
using BatchAspire.Sandbox.Http;

namespace BatchAspire.Sandbox.Faults;

/// <summary><c>/sandbox/faults</c> and <c>/sandbox/stats</c>: knobs and counters for tests driving a running system.</summary>
public static class AdminApi
{
    public const string Prefix = "/sandbox";

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup(Prefix);
        admin.MapGet("/faults", (FaultState faults) => Faults(faults.Snapshot()));
        admin.MapPut("/faults", ReplaceFaultsAsync);
        admin.MapDelete("/faults", (FaultState faults) =>
        {
            faults.Reset();
            return Faults(faults.Snapshot());
        });
        admin.MapGet("/stats", (SandboxStats stats) => new JsonBody(stats.Write));
        admin.MapDelete("/stats", (SandboxStats stats) =>
        {
            stats.Reset();
            return new JsonBody(stats.Write);
        });
        return routes;
    }

    private static async Task<IResult> ReplaceFaultsAsync(HttpRequest request, FaultState faults, CancellationToken ct)
    {
        FaultSettings? settings;
        try
        {
            settings = await JsonSerializer.DeserializeAsync(request.Body, FaultJson.Default.FaultSettings, ct);
        }
        catch (JsonException e)
        {
            return OpenAIErrors.BadRequest($"Invalid fault settings: {e.Message}");
        }
        if (settings is null) return OpenAIErrors.BadRequest("Expected a JSON object of fault settings.");
        if (settings.RetryAfterSeconds is < 0 or > 60) return OpenAIErrors.BadRequest("retry_after_seconds must be 0..60.", "retry_after_seconds");
        faults.Replace(settings);
        return Faults(faults.Snapshot());
    }

    private static JsonBody Faults(FaultSettings settings) =>
        new(writer => JsonSerializer.Serialize(writer, settings, FaultJson.Default.FaultSettings));
}
