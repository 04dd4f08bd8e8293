using System.Buffers;
using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Batches;

/// <summary>The Batch object of docs/openai/batches.md §3: every key, JSON null for unset ones, integer timestamps.</summary>
public static class BatchWire
{
    public static byte[] Serialize(BatchState batch)
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer, Http.WireJson.Options))
        {
            Write(writer, batch);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] SerializeList(IReadOnlyList<BatchState> page, bool hasMore)
    {
        var buffer = new ArrayBufferWriter<byte>(2048 * Math.Max(1, page.Count));
        using (var writer = new Utf8JsonWriter(buffer, Http.WireJson.Options))
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            foreach (var batch in page) Write(writer, batch);
            writer.WriteEndArray();
            writer.WriteString("first_id", page.Count > 0 ? page[0].Id : null);
            writer.WriteString("last_id", page.Count > 0 ? page[^1].Id : null);
            writer.WriteBoolean("has_more", hasMore);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void Write(Utf8JsonWriter w, BatchState b)
    {
        lock (b.Gate)
        {
            w.WriteStartObject();
            w.WriteString("id", b.Id);
            w.WriteString("object", "batch");
            w.WriteString("endpoint", b.Endpoint);
            w.WriteString("model", b.Model);
            if (b.Errors is { } errors)
            {
                w.WriteStartObject("errors");
                w.WriteString("object", "list");
                w.WriteStartArray("data");
                foreach (var error in errors)
                {
                    w.WriteStartObject();
                    w.WriteString("code", error.Code);
                    w.WriteString("message", error.Message);
                    w.WriteString("param", error.Param);
                    if (error.Line is { } line) w.WriteNumber("line", line);
                    else w.WriteNull("line");
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("errors");
            }
            w.WriteString("input_file_id", b.InputFileId);
            w.WriteString("completion_window", b.CompletionWindow);
            w.WriteString("status", b.Status);
            w.WriteString("output_file_id", b.OutputFileId);
            w.WriteString("error_file_id", b.ErrorFileId);
            w.WriteNumber("created_at", b.CreatedAt);
            Time(w, "in_progress_at", b.InProgressAt);
            w.WriteNumber("expires_at", b.ExpiresAt);
            Time(w, "finalizing_at", b.FinalizingAt);
            Time(w, "completed_at", b.CompletedAt);
            Time(w, "failed_at", b.FailedAt);
            Time(w, "expired_at", b.ExpiredAt);
            Time(w, "cancelling_at", b.CancellingAt);
            Time(w, "cancelled_at", b.CancelledAt);
            w.WriteStartObject("request_counts");
            w.WriteNumber("total", b.Total);
            w.WriteNumber("completed", b.Completed);
            w.WriteNumber("failed", b.Failed);
            w.WriteEndObject();
            w.WriteStartObject("usage");
            w.WriteNumber("input_tokens", b.InputTokens);
            w.WriteStartObject("input_tokens_details");
            w.WriteNumber("cached_tokens", b.CachedTokens);
            w.WriteEndObject();
            w.WriteNumber("output_tokens", b.OutputTokens);
            w.WriteStartObject("output_tokens_details");
            w.WriteNumber("reasoning_tokens", b.ReasoningTokens);
            w.WriteEndObject();
            w.WriteNumber("total_tokens", b.InputTokens + b.OutputTokens);
            w.WriteEndObject();
            if (b.Metadata is { } metadata)
            {
                w.WriteStartObject("metadata");
                foreach (var (key, value) in metadata) w.WriteString(key, value);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("metadata");
            }
            w.WriteEndObject();
        }
    }

    private static void Time(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }
}
