using System.Text.Json;
using BatchAspire.Sandbox.Batches;
using BatchAspire.Sandbox.Http;

namespace BatchAspire.Sandbox.Messages;

/// <summary>
/// A message batch's result lines: <c>{"custom_id","result":{"type":"succeeded","message"}}</c>, <c>errored</c> with
/// the error body, <c>canceled</c>, <c>expired</c>.
/// </summary>
public static class MessageResultLines
{
    public static void WriteSucceeded(ResultWriter file, JsonElement customId, ReadOnlySpan<byte> message)
    {
        var w = Begin(file, customId, "succeeded");
        w.WritePropertyName("message");
        w.WriteRawValue(message, skipInputValidation: true);
        End(file, w);
    }

    /// <summary>
    /// An errored request: the error body as the model endpoint gave it when it is Anthropic's shape (the local
    /// executor's), else (an OpenAI-compatible upstream, no body at all) rewritten into that shape.
    /// </summary>
    public static void WriteErrored(ResultWriter file, JsonElement customId, int statusCode, ReadOnlySpan<byte> body)
    {
        var w = Begin(file, customId, "errored");
        w.WritePropertyName("error");
        if (IsAnthropicError(body)) w.WriteRawValue(body, skipInputValidation: true);
        else AnthropicError.Write(w, AnthropicError.TypeFor(statusCode), ErrorMessage(body) ?? $"The model endpoint answered {statusCode}.");
        End(file, w);
    }

    /// <summary>The line-failure fault knobs' 429 and 500.</summary>
    public static void WriteInjectedFailure(ResultWriter file, string customId, int statusCode)
    {
        var w = BeginString(file, customId, "errored");
        w.WritePropertyName("error");
        AnthropicError.Write(w, AnthropicError.TypeFor(statusCode), statusCode == 429
            ? "Number of request tokens has exceeded your rate limit (sandbox fault injection)."
            : "Internal server error (sandbox fault injection).");
        End(file, w);
    }

    /// <summary>A request never run: <c>canceled</c> or <c>expired</c>, with nothing else.</summary>
    public static void WriteNotRun(ResultWriter file, string customId, bool expired)
    {
        var w = BeginString(file, customId, expired ? "expired" : "canceled");
        End(file, w);
    }

    private static Utf8JsonWriter Begin(ResultWriter file, JsonElement customId, string type)
    {
        var w = file.BeginLine();
        w.WriteStartObject();
        w.WritePropertyName("custom_id");
        customId.WriteTo(w);
        w.WriteStartObject("result");
        w.WriteString("type", type);
        return w;
    }

    private static Utf8JsonWriter BeginString(ResultWriter file, string customId, string type)
    {
        var w = file.BeginLine();
        w.WriteStartObject();
        w.WriteString("custom_id", customId);
        w.WriteStartObject("result");
        w.WriteString("type", type);
        return w;
    }

    private static void End(ResultWriter file, Utf8JsonWriter w)
    {
        w.WriteEndObject();
        w.WriteEndObject();
        file.EndLine();
    }

    private static bool IsAnthropicError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("type"u8);
                reader.Read();
                if (isType) return reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("error"u8);
                reader.Skip();
            }
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary><c>error.message</c> of an OpenAI error envelope, if the body is one.</summary>
    private static string? ErrorMessage(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            var inError = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) continue;
                if (reader.CurrentDepth == 1 && reader.ValueTextEquals("error"u8)) inError = true;
                else if (inError && reader.CurrentDepth == 2 && reader.ValueTextEquals("message"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    return reader.GetString();
                }
            }
        }
        catch (JsonException) { }
        return null;
    }
}
