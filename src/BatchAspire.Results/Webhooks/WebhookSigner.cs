using System.Text;
using StandardWebhooks;

namespace BatchAspire.Results.Webhooks;

/// <summary>
/// Signs a delivery per Standard Webhooks, as OpenAI's SDKs verify it (<c>client.webhooks.unwrap</c>): HMAC-SHA256
/// with the endpoint's secret (<c>whsec_</c> + base64 key) over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, sent
/// as <c>webhook-signature: v1,&lt;base64&gt;</c>. The StandardWebhooks package does the HMAC; this class checks the
/// secret's form first, because the package would otherwise take a secret without the prefix as a raw key and sign
/// with something the receiver does not hold.
/// </summary>
public sealed class WebhookSigner
{
    public const string SecretPrefix = "whsec_";
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    private readonly StandardWebhook _webhook;

    public WebhookSigner(string secret)
    {
        if (!IsValidSecret(secret))
            throw new ArgumentException($"A webhook secret is '{SecretPrefix}' followed by a base64 key of at least 24 bytes.", nameof(secret));
        _webhook = new StandardWebhook(secret);
    }

    /// <summary>True for <c>whsec_</c> + base64 of a key of 24 to 64 bytes (Standard Webhooks' range).</summary>
    public static bool IsValidSecret(string? secret)
    {
        if (secret is null || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal)) return false;
        Span<byte> key = stackalloc byte[96];
        return Convert.TryFromBase64String(secret[SecretPrefix.Length..], key, out var length) && length is >= 24 and <= 64;
    }

    /// <summary>The three headers of one attempt: the timestamp is the attempt's own, so a receiver's replay window holds for retries too.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Sign(string webhookId, DateTimeOffset timestamp, byte[] body) =>
    [
        new(IdHeader, webhookId),
        new(TimestampHeader, timestamp.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new(SignatureHeader, _webhook.Sign(webhookId, timestamp, Encoding.UTF8.GetString(body))),
    ];
}
