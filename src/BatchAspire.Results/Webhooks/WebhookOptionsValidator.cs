using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Webhooks;

/// <summary>
/// Refuses, at startup, endpoints that cannot work or must not be called: a missing tenant, a URL that is not absolute
/// http(s), a secret not in <c>whsec_</c> form, an unknown event type, the same URL twice for a tenant, and a host that
/// resolves to a loopback, link-local or private address while <see cref="WebhookOptions.AllowPrivateAddresses"/> is off.
/// A host that does not resolve now is let through: the check on every connection still applies to it.
/// Messages name the tenant and host, never the secret or the URL's path.
/// </summary>
public sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < options.Endpoints.Count; i++)
        {
            var endpoint = options.Endpoints[i];
            var at = $"Webhooks:Endpoints:{i}";
            if (string.IsNullOrWhiteSpace(endpoint.Tenant)) failures.Add($"{at}: a Tenant is required.");
            if (!WebhookSigner.IsValidSecret(endpoint.Secret))
                failures.Add($"{at} (tenant {endpoint.Tenant}): Secret must be '{WebhookSigner.SecretPrefix}' followed by a base64 key of 24 to 64 bytes.");
            foreach (var type in endpoint.Events.Where(t => !WebhookEventTypes.All.Contains(t)))
                failures.Add($"{at} (tenant {endpoint.Tenant}): unknown event type '{type}'; known: {string.Join(", ", WebhookEventTypes.All)}.");
            if (!Uri.TryCreate(endpoint.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                failures.Add($"{at} (tenant {endpoint.Tenant}): Url must be an absolute http or https URL.");
                continue;
            }
            if (!seen.Add((endpoint.Tenant ?? "", url.AbsoluteUri)))
                failures.Add($"{at} (tenant {endpoint.Tenant}): the same Url is listed twice for this tenant.");
            if (!options.AllowPrivateAddresses && ResolvesInward(url.IdnHost) is { } address)
                failures.Add($"{at} (tenant {endpoint.Tenant}): host {url.Host} resolves to {address}, a loopback, link-local or private address; " +
                    "refused unless Webhooks:AllowPrivateAddresses is true.");
        }
        // One event's tries of a tenant's endpoints run one after another under one lease: a lease shorter than all of
        // them would hand an event still being delivered to a second dispatcher, and the receiver would get it twice.
        var mostEndpoints = options.Endpoints.GroupBy(e => e.Tenant).Select(g => g.Count()).DefaultIfEmpty(1).Max();
        if (options.Lease <= options.Timeout * mostEndpoints)
            failures.Add($"Webhooks:Lease ({options.Lease}) must be longer than Webhooks:Timeout ({options.Timeout}) times the most endpoints one tenant has ({mostEndpoints}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IPAddress? ResolvesInward(string host)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal)) addresses = [literal];
        else
        {
            try
            {
                addresses = Dns.GetHostAddresses(host);
            }
            catch (SocketException)
            {
                return null;
            }
        }
        return addresses.FirstOrDefault(EndpointAddressPolicy.IsDisallowed);
    }
}
