using System.Text.Json;
using BatchAspire.Core.Webhooks;

namespace BatchAspire.Results.Webhooks;

/// <summary>The event types a job sends when it ends, named as OpenAI names them (recorded by lib/webhook_event.lua).</summary>
public static class WebhookEventTypes
{
    public const string Completed = WebhookEventFields.TypeCompleted;
    public const string Failed = WebhookEventFields.TypeFailed;
    public const string Expired = WebhookEventFields.TypeExpired;
    public const string Cancelled = WebhookEventFields.TypeCancelled;

    public static readonly IReadOnlyList<string> All = [Completed, Failed, Expired, Cancelled];
}

/// <summary>
/// One event as OpenAI sends it: <c>{"id":"evt_…","object":"event","type":"batch.completed","created_at":…,
/// "data":{"id":"batch_…"}}</c>. Only ids: a receiver reads the batch itself with its own key.
/// </summary>
public sealed record WebhookEvent(string Id, string Type, long CreatedAt, string BatchId)
{
    /// <summary>The body as sent, UTF-8 JSON. The same event always gives the same bytes, so every retry signs the same body.</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream(160);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", Id);
            json.WriteString("object", "event");
            json.WriteString("type", Type);
            json.WriteNumber("created_at", CreatedAt);
            json.WriteStartObject("data");
            json.WriteString("id", BatchId);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
