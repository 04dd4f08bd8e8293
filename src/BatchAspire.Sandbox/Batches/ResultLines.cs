using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Batches;

/// <summary>The result line format of docs/openai/lines.md §2, shared by output and error files.</summary>
public static class ResultLines
{
    public const string ExpiredMessage = "This request could not be executed before the completion window expired.";
    public const string CancelledMessage = "This request was not executed because the batch was cancelled.";

    private static readonly byte[] RateLimitedBody =
        """{"error":{"message":"Rate limit reached for requests (sandbox fault injection). Please try again later.","type":"requests","param":null,"code":"rate_limit_exceeded"}}"""u8.ToArray();

    private static readonly byte[] ServerErrorBody =
        """{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"""u8.ToArray();

    public static void WriteResponse(ResultWriter file, JsonElement customId, int statusCode, ReadOnlySpan<byte> body)
    {
        var w = file.BeginLine();
        w.WriteStartObject();
        WriteId(w, "id", "batch_req_"u8);
        w.WritePropertyName("custom_id");
        customId.WriteTo(w);
        w.WriteStartObject("response");
        w.WriteNumber("status_code", statusCode);
        WriteId(w, "request_id", "req_"u8);
        w.WritePropertyName("body");
        w.WriteRawValue(body, skipInputValidation: true);
        w.WriteEndObject();
        w.WriteNull("error");
        w.WriteEndObject();
        file.EndLine();
    }

    public static void WriteInjectedFailure(ResultWriter file, ReadOnlySpan<byte> line, int statusCode)
    {
        var w = file.BeginLine();
        w.WriteStartObject();
        WriteId(w, "id", "batch_req_"u8);
        w.WriteString("custom_id", CustomId(line));
        w.WriteStartObject("response");
        w.WriteNumber("status_code", statusCode);
        WriteId(w, "request_id", "req_"u8);
        w.WritePropertyName("body");
        w.WriteRawValue(statusCode == 429 ? RateLimitedBody : ServerErrorBody, skipInputValidation: true);
        w.WriteEndObject();
        w.WriteNull("error");
        w.WriteEndObject();
        file.EndLine();
    }

    /// <summary>A request that was never executed: <c>response: null</c> and an <c>error</c> object.</summary>
    public static void WriteNotExecuted(ResultWriter file, ReadOnlySpan<byte> line, string code, string message)
    {
        var w = file.BeginLine();
        w.WriteStartObject();
        WriteId(w, "id", "batch_req_"u8);
        w.WriteString("custom_id", CustomId(line));
        w.WriteNull("response");
        w.WriteStartObject("error");
        w.WriteString("code", code);
        w.WriteString("message", message);
        w.WriteEndObject();
        w.WriteEndObject();
        file.EndLine();
    }

    private static void WriteId(Utf8JsonWriter writer, string name, ReadOnlySpan<byte> prefix)
    {
        Span<byte> id = stackalloc byte[prefix.Length + 24];
        writer.WriteString(name, id[..Ids.WriteFastId(prefix, id)]);
    }

    /// <summary>The line's <c>custom_id</c> (the line passed validation, so it has one).</summary>
    internal static string CustomId(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isCustomId = reader.ValueTextEquals("custom_id"u8);
            reader.Read();
            if (isCustomId && reader.TokenType == JsonTokenType.String) return reader.GetString()!;
            reader.Skip();
        }
        return "";
    }
}
