using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Files;

/// <summary>The File object exactly as docs/openai/files.md §1 lists it (every key, integers for times).</summary>
public static class FileWire
{
    public static void Write(Utf8JsonWriter writer, FileRecord file)
    {
        writer.WriteStartObject();
        writer.WriteString("id", file.Id);
        writer.WriteString("object", "file");
        writer.WriteNumber("bytes", file.Bytes);
        writer.WriteNumber("created_at", file.CreatedAt);
        if (file.ExpiresAt is { } expiresAt) writer.WriteNumber("expires_at", expiresAt);
        else writer.WriteNull("expires_at");
        writer.WriteString("filename", file.Filename);
        writer.WriteString("purpose", file.Purpose);
        writer.WriteString("status", "processed");
        writer.WriteNull("status_details");
        writer.WriteEndObject();
    }

    public static void WriteList(Utf8JsonWriter writer, IReadOnlyList<FileRecord> page, bool hasMore)
    {
        writer.WriteStartObject();
        writer.WriteString("object", "list");
        writer.WriteStartArray("data");
        foreach (var file in page) Write(writer, file);
        writer.WriteEndArray();
        if (page.Count > 0)
        {
            writer.WriteString("first_id", page[0].Id);
            writer.WriteString("last_id", page[^1].Id);
        }
        else
        {
            writer.WriteNull("first_id");
            writer.WriteNull("last_id");
        }
        writer.WriteBoolean("has_more", hasMore);
        writer.WriteEndObject();
    }
}
