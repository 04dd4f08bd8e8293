using BatchAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BatchAspire.Providers;

/// <summary>
/// Where the provider's OpenAI-compatible API lives (section <c>Provider</c>). Without a <see cref="BaseUrl"/>
/// the provider is the bundled Sandbox, found through Aspire service discovery
/// (<c>services:sandbox:http:0</c>). <see cref="ApiKey"/> is a secret: it is only ever handed to the SDK.
/// </summary>
public sealed class ProviderOptions
{
    public const string SectionName = "Provider";

    /// <summary>The API root including <c>/v1</c>, e.g. <c>https://api.openai.com/v1</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Required with an explicit <see cref="BaseUrl"/>; the Sandbox accepts any key.</summary>
    public string? ApiKey { get; set; }

    /// <summary>One HTTP attempt; a poll is a small GET, but an upload of 200 MB is one attempt too.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>All attempts of one call together, including the waits between retries.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Retries of safe calls (GET) on 408, 429 and 5xx; POSTs are never retried by the transport.</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Base of the exponential retry delay when the provider sends no <c>Retry-After</c>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Filled in from <see cref="BaseUrl"/> or the Sandbox reference when the options are built.</summary>
    public Uri? Endpoint { get; internal set; }

    /// <summary>True when <see cref="Endpoint"/> came from the Sandbox reference rather than <see cref="BaseUrl"/>.</summary>
    public bool IsSandbox { get; internal set; }

    internal const string SandboxApiKey = "sandbox";
}

/// <summary>Resolves the endpoint: an explicit base URL wins, else the Sandbox from service discovery configuration.</summary>
internal sealed class ProviderOptionsSetup(IConfiguration configuration) : IPostConfigureOptions<ProviderOptions>
{
    public void PostConfigure(string? name, ProviderOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.BaseUrl))
        {
            options.Endpoint = Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var explicitUri) ? explicitUri : null;
            options.IsSandbox = false;
            return;
        }

        // Aspire injects the referenced Sandbox as services:sandbox:{scheme}:{index}; the API lives under /v1.
        var sandbox = configuration[$"services:{ResourceNames.Sandbox}:https:0"]
                      ?? configuration[$"services:{ResourceNames.Sandbox}:http:0"];
        if (sandbox is not null && Uri.TryCreate(sandbox.TrimEnd('/') + "/v1", UriKind.Absolute, out var sandboxUri))
        {
            options.Endpoint = sandboxUri;
            options.IsSandbox = true;
            options.ApiKey ??= ProviderOptions.SandboxApiKey;
        }
    }
}

/// <summary>Fails the host at start on a missing endpoint or key. Messages name settings, never values.</summary>
internal sealed class ProviderOptionsValidation : IValidateOptions<ProviderOptions>
{
    public ValidateOptionsResult Validate(string? name, ProviderOptions options)
    {
        var failures = new List<string>();
        if (options.Endpoint is null || options.Endpoint.Scheme is not ("http" or "https"))
        {
            failures.Add($"{ProviderOptions.SectionName}:BaseUrl must be an absolute http(s) URL, or the service must reference the " +
                         $"'{ResourceNames.Sandbox}' resource (services:{ResourceNames.Sandbox}:http:0).");
        }
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            failures.Add($"{ProviderOptions.SectionName}:ApiKey is required when {ProviderOptions.SectionName}:BaseUrl is set.");
        }
        if (options.AttemptTimeout <= TimeSpan.Zero || options.TotalTimeout < options.AttemptTimeout)
        {
            failures.Add($"{ProviderOptions.SectionName}:AttemptTimeout must be positive and no longer than TotalTimeout.");
        }
        if (options.RetryDelay < TimeSpan.Zero)
        {
            failures.Add($"{ProviderOptions.SectionName}:RetryDelay must not be negative.");
        }
        if (options.MaxRetryAttempts is < 1 or > 10)
        {
            failures.Add($"{ProviderOptions.SectionName}:MaxRetryAttempts must be between 1 and 10.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
