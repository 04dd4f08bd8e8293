using System.Buffers;
using System.Globalization;
using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Messages;

/// <summary>
/// The MessageBatch object of Anthropic's API: RFC 3339 times, <c>processing_status</c> in_progress / canceling / ended,
/// and <c>request_counts</c> that keep every request in <c>processing</c> until the batch ends, as the real API does.
/// </summary>
public static class MessageBatchWire
{
    public static byte[] Serialize(BatchState batch, string apiBase)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Http.WireJson.Options))
        {
            Write(writer, batch, apiBase);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] SerializeList(IReadOnlyList<BatchState> page, bool hasMore, string apiBase)
    {
        var buffer = new ArrayBufferWriter<byte>(1024 * Math.Max(1, page.Count));
        using (var writer = new Utf8JsonWriter(buffer, Http.WireJson.Options))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data");
            foreach (var batch in page) Write(writer, batch, apiBase);
            writer.WriteEndArray();
            writer.WriteBoolean("has_more", hasMore);
            writer.WriteString("first_id", page.Count > 0 ? page[0].Id : null);
            writer.WriteString("last_id", page.Count > 0 ? page[^1].Id : null);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] SerializeDeleted(string batchId)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, Http.WireJson.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("id", batchId);
            writer.WriteString("type", "message_batch_deleted");
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string ProcessingStatus(BatchState batch) =>
        BatchStatus.IsTerminal(batch.Status) ? "ended"
        : batch.CancellingAt is not null ? "canceling"
        : "in_progress";

    private static void Write(Utf8JsonWriter w, BatchState b, string apiBase)
    {
        lock (b.Gate)
        {
            var ended = BatchStatus.IsTerminal(b.Status);
            w.WriteStartObject();
            w.WriteString("id", b.Id);
            w.WriteString("type", "message_batch");
            w.WriteString("processing_status", ProcessingStatus(b));
            w.WriteStartObject("request_counts");
            w.WriteNumber("processing", ended ? 0 : b.Total);
            w.WriteNumber("succeeded", ended ? b.Completed : 0);
            w.WriteNumber("errored", ended ? b.Failed - b.CanceledRequests - b.ExpiredRequests : 0);
            w.WriteNumber("canceled", ended ? b.CanceledRequests : 0);
            w.WriteNumber("expired", ended ? b.ExpiredRequests : 0);
            w.WriteEndObject();
            Time(w, "ended_at", b.CompletedAt ?? b.CancelledAt ?? b.ExpiredAt ?? b.FailedAt);
            w.WriteString("created_at", Rfc3339(DateTimeOffset.FromUnixTimeMilliseconds(b.CreatedAtMs)));
            w.WriteString("expires_at", Rfc3339(DateTimeOffset.FromUnixTimeMilliseconds(b.ExpiresAtMs)));
            w.WriteNull("archived_at");
            Time(w, "cancel_initiated_at", b.CancellingAt);
            w.WriteString("results_url", ended ? $"{apiBase}/messages/batches/{b.Id}/results" : null);
            w.WriteEndObject();
        }
    }

    private static void Time(Utf8JsonWriter w, string name, long? seconds)
    {
        if (seconds is { } s) w.WriteString(name, Rfc3339(DateTimeOffset.FromUnixTimeSeconds(s)));
        else w.WriteNull(name);
    }

    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
