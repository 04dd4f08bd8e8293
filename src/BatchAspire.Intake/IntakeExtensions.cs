using System.Text.Json;
using System.Text.Json.Serialization;
using BatchAspire.Core.Results;
using BatchAspire.Intake.Auth;
using BatchAspire.Intake.Batches;
using BatchAspire.Intake.Files;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace BatchAspire.Intake;

public static class IntakeExtensions
{
    /// <summary>Options, API-key auth, the Redis stores, the JSON wire format, OpenAPI, the socket setting for uploads, the re-publisher and the expired-file sweeper.</summary>
    public static IHostApplicationBuilder AddIntake(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<IntakeOptions>()
            .BindConfiguration(IntakeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.ApiKeys.All(k => !string.IsNullOrWhiteSpace(k.Tenant) && k.Sha256 is { Length: 64 } h && h.All(char.IsAsciiHexDigit)),
                "Every Intake:ApiKeys entry needs a Tenant and a Sha256 of 64 hex digits.")
            .Validate(o => o.RepublishAfter > TimeSpan.Zero && o.RepublishInterval > TimeSpan.Zero, "Intake:RepublishAfter and RepublishInterval must be positive.")
            .Validate(o => o.ExpiredFileRetention >= TimeSpan.Zero && o.ExpiredFileSweepInterval > TimeSpan.Zero,
                "Intake:ExpiredFileRetention must not be negative and ExpiredFileSweepInterval must be positive.")
            .ValidateOnStart();

        services.AddSingleton<ApiKeyRegistry>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();

        services.AddBatchStores();
        services.AddRouteTable();                // which models go to Anthropic first: their lines are translated at validation
        services.AddSingleton<PartialOutput>();
        services.AddSingleton<BatchAspire.Core.Chunks.ChunkStore>();   // the per-request provider view reads the chunks
        services.AddHostedService<StrandedJobRepublisher>();
        services.AddHostedService<ExpiredFileSweeper>();

        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // Numbers are numbers on the wire (the web default also reads them from strings, and OpenAPI would say so).
            json.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, IntakeJson.Default);
        });

        // Kestrel's default first waits for data with a zero-byte receive, then receives into a 4 KiB block: two
        // system calls per block. Receiving straight away halves the CPU of taking in an upload (docs/performance.md)
        // at the cost of a 4 KiB block held by each idle connection.
        services.Configure<SocketTransportOptions>(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);

        services.AddOpenApi(openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "BatchAspire intake";
            document.Info.Description = "The OpenAI Files and Batches API, multi-tenant (Authorization: Bearer <API key>). See docs/intake.md.";
            return Task.CompletedTask;
        }));
        return builder;
    }
}
