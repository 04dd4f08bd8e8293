using System.Net;
using BatchAspire.Results.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Tests.Webhooks;

/// <summary>Which endpoints the configuration may hold, and which addresses a delivery may reach.</summary>
public sealed class WebhookEndpointTests(RedisFixture fixture) : IAsyncLifetime
{
    private static readonly string Secret = WebhookSigningTests.NewSecret();

    private IsolatedRedis _redis = null!;
    private WebhookReceiver _receiver = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _receiver = new WebhookReceiver();
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Theory]
    [InlineData("http://10.1.2.3/hook", "10.1.2.3")]
    [InlineData("http://192.168.0.10/hook", "192.168.0.10")]
    [InlineData("http://169.254.169.254/latest/meta-data", "169.254.169.254")]
    [InlineData("http://localhost:8080/hook", "localhost")]
    [InlineData("http://[::1]/hook", "::1")]
    public async Task AnEndpointOnALoopbackLinkLocalOrPrivateAddressIsRefusedAtStartup(string url, string shown)
    {
        var settings = Endpoint("acme");
        settings["Webhooks:Endpoints:0:Url"] = url;
        settings["Webhooks:AllowPrivateAddresses"] = "false";

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DispatcherAsync(settings));

        Assert.Contains("Webhooks:Endpoints:0 (tenant acme)", error.Message);
        Assert.Contains(shown, error.Message);
        Assert.Contains("Webhooks:AllowPrivateAddresses", error.Message);
        Assert.DoesNotContain(Secret, error.Message);
    }

    [Fact]
    public async Task TheConnectionCheckRefusesAPrivateAddressEvenWhenTheStartupCheckWasPassed()
    {
        await _receiver.UpAsync(TestContext.Current.CancellationToken);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectCallback = EndpointAddressPolicy.ConnectCallback(allowPrivate: false) });

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(_receiver.Url("hook"), new StringContent("{}"), Ct));

        Assert.Contains("Webhooks:AllowPrivateAddresses", error.Message);
        Assert.Empty(_receiver.Requests);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.255.0.1", true)]
    [InlineData("172.16.0.1", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("100.64.0.1", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:192.168.1.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:4860:4860::8888", false)]
    public void OnlyPublicAddressesAreAllowedByDefault(string address, bool disallowed) =>
        Assert.Equal(disallowed, EndpointAddressPolicy.IsDisallowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("Secret", "c2VjcmV0", "Secret must be 'whsec_'")]
    [InlineData("Url", "ftp://example.com/hook", "Url must be an absolute http or https URL")]
    [InlineData("Events:0", "batch.started", "unknown event type 'batch.started'")]
    [InlineData("Tenant", "", "a Tenant is required")]
    [InlineData("../../Lease", "00:00:00.500", "Webhooks:Lease (00:00:00.5000000) must be longer than Webhooks:Timeout")]
    public async Task AnEndpointThatCannotWorkIsRefusedAtStartupSayingWhy(string key, string value, string expected)
    {
        var settings = Endpoint("acme");
        settings[key.StartsWith("../../", StringComparison.Ordinal) ? $"Webhooks:{key[6..]}" : $"Webhooks:Endpoints:0:{key}"] = value;

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => DispatcherAsync(settings));

        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void ATenantsEndpointsAreFilteredByEventType()
    {
        var endpoints = new WebhookEndpoints(Options.Create(new WebhookOptions
        {
            Endpoints =
            [
                new() { Tenant = "acme", Url = "https://a.example/all", Secret = Secret },
                new() { Tenant = "acme", Url = "https://a.example/done", Secret = Secret, Events = [WebhookEventTypes.Completed] },
                new() { Tenant = "other", Url = "https://o.example/all", Secret = Secret },
            ],
        }));

        Assert.Equal(["https://a.example/all", "https://a.example/done"], endpoints.For("acme", WebhookEventTypes.Completed).Select(e => e.Url.ToString()));
        Assert.Equal(["https://a.example/all"], endpoints.For("acme", WebhookEventTypes.Cancelled).Select(e => e.Url.ToString()));
        Assert.Empty(endpoints.For("nobody", WebhookEventTypes.Completed));
    }

    private Dictionary<string, string?> Endpoint(string tenant) => new()
    {
        ["Webhooks:Endpoints:0:Tenant"] = tenant,
        ["Webhooks:Endpoints:0:Url"] = _receiver.Url("hook").ToString(),
        ["Webhooks:Endpoints:0:Secret"] = Secret,
    };

    private Task<WebhookHost> DispatcherAsync(Dictionary<string, string?> overrides) => WebhookHost.StartAsync(_redis, overrides);

}
