using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using BatchAspire.Intake.Errors;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BatchAspire.Intake.Auth;

/// <summary>
/// Bearer API keys → tenants. Keys are configured as SHA-256 hashes, so the configuration never holds
/// a usable key; the presented key is hashed and looked up. Failures answer 401 in OpenAI's envelope.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRegistry keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "batchaspire:tenant";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return Task.FromResult(AuthenticateResult.NoResult());
        if (keys.TenantOf(header.AsSpan(7).Trim()) is not { } tenant) return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        var identity = new ClaimsIdentity([new Claim(TenantClaim, tenant)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => WriteChallengeAsync(Context);

    /// <summary>The 401 envelope (docs/openai/errors.md §1: <c>code: invalid_api_key</c>). The key itself is never echoed.</summary>
    public static Task WriteChallengeAsync(HttpContext context)
    {
        var hasKey = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        var message = hasKey
            ? "Incorrect API key provided. You can find your API key in the BatchAspire configuration (Intake:ApiKeys)."
            : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
        return OpenAIErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, message, code: OpenAIErrors.InvalidApiKey);
    }
}

/// <summary>The configured key hashes and their tenants.</summary>
internal sealed class ApiKeyRegistry
{
    private readonly Dictionary<string, string> _tenantsByHash = new(StringComparer.OrdinalIgnoreCase);

    public ApiKeyRegistry(IOptions<IntakeOptions> options, IHostEnvironment environment, ILogger<ApiKeyRegistry> logger)
    {
        foreach (var entry in options.Value.ApiKeys)
        {
            if (string.IsNullOrWhiteSpace(entry.Tenant) || entry.Sha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigit))
                throw new OptionsValidationException(IntakeOptions.SectionName, typeof(IntakeOptions),
                    ["Every Intake:ApiKeys entry needs a Tenant and a Sha256 of 64 hex digits."]);
            _tenantsByHash[hash] = entry.Tenant;
        }
        if (environment.IsDevelopment() && options.Value.DevelopmentKeyEnabled)
            _tenantsByHash.TryAdd(Hash(IntakeOptions.DevelopmentKey), IntakeOptions.DevelopmentTenant);
        if (_tenantsByHash.Count == 0) IntakeLog.NoApiKeys(logger);
    }

    /// <summary>Every tenant a key maps to: the bounded set the per-tenant gauges report.</summary>
    public IReadOnlyList<string> Tenants => [.. _tenantsByHash.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public string? TenantOf(ReadOnlySpan<char> key) =>
        key.IsEmpty ? null : _tenantsByHash.GetValueOrDefault(Hash(key));

    /// <summary>Lowercase hex SHA-256 of the key's UTF-8 bytes: the form <c>Intake:ApiKeys</c> stores.</summary>
    public static string Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(Math.Min(key.Length, 1024))];
        if (key.Length > 1024) return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())));
        var length = Encoding.UTF8.GetBytes(key, utf8);
        return Convert.ToHexStringLower(SHA256.HashData(utf8[..length]));
    }
}

/// <summary>The caller's tenant, bound from the authenticated key in every handler.</summary>
public sealed record Tenant(string Id)
{
    public static ValueTask<Tenant?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<Tenant?>(new Tenant(context.User.FindFirst(ApiKeyAuthenticationHandler.TenantClaim)?.Value
            ?? throw new InvalidOperationException("The endpoint must require authorization.")));
}
