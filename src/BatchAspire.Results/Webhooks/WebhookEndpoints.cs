using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Webhooks;

/// <summary>One configured endpoint, ready to sign for: <see cref="Url"/> is also its name in an event's delivery record.</summary>
public sealed record WebhookEndpoint(string Tenant, Uri Url, WebhookSigner Signer, WebhookEndpointOptions Options);

/// <summary>The configured endpoints by tenant (validated at startup by <see cref="WebhookOptionsValidator"/>).</summary>
public sealed class WebhookEndpoints
{
    private readonly Dictionary<string, List<WebhookEndpoint>> _byTenant = new(StringComparer.Ordinal);

    public WebhookEndpoints(IOptions<WebhookOptions> options)
    {
        foreach (var endpoint in options.Value.Endpoints)
        {
            if (!_byTenant.TryGetValue(endpoint.Tenant!, out var list)) _byTenant[endpoint.Tenant!] = list = [];
            list.Add(new WebhookEndpoint(endpoint.Tenant!, new Uri(endpoint.Url!, UriKind.Absolute), new WebhookSigner(endpoint.Secret!), endpoint));
        }
    }

    /// <summary>The tenant's endpoints that want events of <paramref name="type"/>.</summary>
    public IEnumerable<WebhookEndpoint> For(string tenant, string type) =>
        _byTenant.TryGetValue(tenant, out var list) ? list.Where(e => e.Options.Wants(type)) : [];
}
