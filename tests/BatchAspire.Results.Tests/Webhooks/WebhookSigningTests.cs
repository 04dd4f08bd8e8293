using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BatchAspire.Results.Webhooks;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace BatchAspire.Results.Tests.Webhooks;

/// <summary>A delivery's body and signature as Standard Webhooks (and so OpenAI's SDKs) define them.</summary>
public sealed class WebhookSigningTests
{
    private static readonly string Secret = NewSecret();

    private static readonly WebhookEvent Event = new("evt_abc123", WebhookEventTypes.Completed, 1_765_000_000, "batch_abc123");

    internal static string NewSecret() => WebhookSigner.SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void TheBodyHasOpenAIsEventShape()
    {
        using var json = JsonDocument.Parse(Event.ToJson());
        var root = json.RootElement;
        Assert.Equal("evt_abc123", root.GetProperty("id").GetString());
        Assert.Equal("event", root.GetProperty("object").GetString());
        Assert.Equal("batch.completed", root.GetProperty("type").GetString());
        Assert.Equal(1_765_000_000, root.GetProperty("created_at").GetInt64());
        Assert.Equal("batch_abc123", root.GetProperty("data").GetProperty("id").GetString());
        Assert.Equal(5, root.EnumerateObject().Count());
        Assert.Single(root.GetProperty("data").EnumerateObject());
    }

    [Fact]
    public void TheSignatureIsHmacSha256OverIdTimestampAndBodyWithTheDecodedSecret()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1_765_000_123);
        var body = Event.ToJson();
        var headers = new WebhookSigner(Secret).Sign("evt_abc123", at, body).ToDictionary();

        var key = Convert.FromBase64String(Secret[WebhookSigner.SecretPrefix.Length..]);
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"evt_abc123.1765000123.{Encoding.UTF8.GetString(body)}")));
        Assert.Equal(expected, headers[WebhookSigner.SignatureHeader]);
        Assert.Equal("evt_abc123", headers[WebhookSigner.IdHeader]);
        Assert.Equal("1765000123", headers[WebhookSigner.TimestampHeader]);
    }

    [Fact]
    public void AStandardWebhooksVerifierAcceptsTheDeliveryAndRefusesATamperedBody()
    {
        var body = Encoding.UTF8.GetString(Event.ToJson());
        var headers = Headers(new WebhookSigner(Secret).Sign(Event.Id, DateTimeOffset.UtcNow, Event.ToJson()));
        var verifier = new StandardWebhook(Secret);

        verifier.Verify(body, headers);
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(body.Replace("batch.completed", "batch.cancelled"), headers));
    }

    [Fact]
    public void AnotherSecretDoesNotVerify()
    {
        var body = Encoding.UTF8.GetString(Event.ToJson());
        var headers = Headers(new WebhookSigner(Secret).Sign(Event.Id, DateTimeOffset.UtcNow, Event.ToJson()));

        Assert.Throws<WebhookVerificationException>(() => new StandardWebhook(NewSecret()).Verify(body, headers));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")]            // no whsec_ prefix
    [InlineData("whsec_not base64!")]
    [InlineData("whsec_c2hvcnQ=")]                              // 5 bytes: too short a key
    public void ASecretNotInWhsecFormIsRefused(string? secret)
    {
        Assert.False(WebhookSigner.IsValidSecret(secret));
        Assert.Throws<ArgumentException>(() => new WebhookSigner(secret!));
    }

    private static HeaderDictionary Headers(IEnumerable<KeyValuePair<string, string>> headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers) dictionary[name] = value;
        return dictionary;
    }
}
