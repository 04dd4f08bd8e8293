using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace BatchAspire.Core.Translation;

/// <summary>
/// An OpenAI Batch input line for <c>/v1/chat/completions</c> → a request of Anthropic's Message Batches API
/// (<c>{"custom_id","params"}</c>). docs/providers.md has the table: what maps to what, what is dropped because it
/// changes nothing in the answer, and what is refused because Anthropic has no equivalent. A refused line gets one
/// message naming the field (<c>body.n</c>, <c>body.messages[2].content[1]</c>); the caller adds the line number.
/// In Core, on JSON alone, because the intake runs it at validation and carries no provider SDK; the Anthropic SDK's
/// request type is made from its output in BatchAspire.Providers (<c>AnthropicSdkRequests</c>).
/// </summary>
public static class AnthropicRequestTranslator
{
    /// <summary>
    /// <c>max_tokens</c> when the line sets neither <c>max_tokens</c> nor <c>max_completion_tokens</c>: Anthropic requires
    /// one, and 4,096 is the largest every Claude model accepts (Claude 3 Haiku's maximum).
    /// </summary>
    public const int DefaultMaxTokens = 4096;

    public const string ChatCompletionsUrl = "/v1/chat/completions";

    /// <summary>The media types Anthropic accepts for base64 images.</summary>
    public static readonly string[] ImageMediaTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"];

    // Chat-completions parameters that cannot change the answer Anthropic gives (storage, billing, caching hints).
    private static readonly HashSet<string> Dropped =
        ["seed", "store", "metadata", "service_tier", "prompt_cache_key", "safety_identifier", "parallel_tool_calls", "stream_options"];

    // Parameters whose neutral value is accepted (and dropped); any other value is refused.
    private static readonly HashSet<string> NeutralOnly =
        ["logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "logit_bias", "response_format", "tools", "tool_choice", "modalities"];

    /// <summary>
    /// Translates one input line (the whole line: custom_id, method, url, body) and writes the Anthropic request to
    /// <paramref name="writer"/>; on failure writes nothing and says why. <paramref name="model"/> replaces
    /// <c>body.model</c> when set (a route's provider model name). <paramref name="customId"/> replaces the line's
    /// custom_id: Anthropic takes only 1 to 64 letters, digits, '_' and '-', where OpenAI takes any string, so a caller
    /// can send its own id (the line's index) and map the result back.
    /// </summary>
    public static bool TryTranslate(JsonElement line, Utf8JsonWriter writer, [NotNullWhen(false)] out string? error,
        string? model = null, string? customId = null)
    {
        var scratch = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(scratch))
        {
            error = Translate(line, w, model, customId);
        }
        if (error is not null) return false;
        writer.WriteRawValue(scratch.WrittenSpan, skipInputValidation: true);
        return true;
    }

    private static string? Translate(JsonElement line, Utf8JsonWriter w, string? modelOverride, string? customIdOverride)
    {
        if (line.ValueKind != JsonValueKind.Object) return "the line is not a JSON object";
        var id = customIdOverride;
        if (id is null && (!line.TryGetProperty("custom_id", out var customId) || customId.ValueKind != JsonValueKind.String || (id = customId.GetString()) is not { Length: > 0 }))
        {
            return "custom_id: a non-empty string is required";
        }
        if (!IsAnthropicCustomId(id!))
        {
            return $"custom_id: '{Shorten(id!)}' is not a valid Anthropic custom_id (1 to 64 letters, digits, '_' or '-')";
        }
        if (!line.TryGetProperty("url", out var url) || !url.ValueEquals(ChatCompletionsUrl))
        {
            return $"url: only {ChatCompletionsUrl} lines can be sent to Anthropic";
        }
        if (!line.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object) return "body: a JSON object is required";

        string? model = modelOverride;
        JsonElement messages = default;
        int? maxTokens = null, maxCompletionTokens = null;
        double? temperature = null, topP = null;
        JsonElement stop = default;
        string? user = null;
        foreach (var property in body.EnumerateObject())
        {
            var name = property.Name;
            var value = property.Value;
            var isNull = value.ValueKind == JsonValueKind.Null;
            switch (name)
            {
                case "model":
                    if (value.ValueKind != JsonValueKind.String) return "body.model: a string is required";
                    model ??= value.GetString();
                    break;
                case "messages":
                    messages = value;
                    break;
                case "max_tokens" or "max_completion_tokens":
                    if (isNull) break;
                    if (!value.TryGetInt32(out var limit) || limit < 1) return $"body.{name}: a positive integer is required";
                    if (name == "max_tokens") maxTokens = limit;
                    else maxCompletionTokens = limit;
                    break;
                case "temperature":
                    if (isNull) break;
                    if (!value.TryGetDouble(out var t) || t < 0) return "body.temperature: a number from 0 to 1 is required";
                    if (t > 1)
                    {
                        return $"body.temperature: {value.GetRawText()} is above Anthropic's maximum of 1 (OpenAI allows up to 2; scaling it would change what it means)";
                    }
                    temperature = t;
                    break;
                case "top_p":
                    if (isNull) break;
                    if (!value.TryGetDouble(out var p) || p is < 0 or > 1) return "body.top_p: a number from 0 to 1 is required";
                    topP = p;
                    break;
                case "stop":
                    if (isNull) break;
                    if (value.ValueKind == JsonValueKind.Array && value.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String) ||
                        value.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                    {
                        return "body.stop: a string or an array of strings is required";
                    }
                    stop = value;
                    break;
                case "n":
                    if (isNull || value.TryGetInt32(out var n) && n == 1) break;
                    return $"body.n: {value.GetRawText()} choices were asked for; Anthropic answers each request with one message";
                case "stream":
                    if (isNull || value.ValueKind == JsonValueKind.False) break;
                    return "body.stream: streaming is not available in batches";
                case "user":
                    if (isNull) break;
                    if (value.ValueKind != JsonValueKind.String) return "body.user: a string is required";
                    user = value.GetString();
                    break;
                case var dropped when Dropped.Contains(dropped):
                    break;
                case var neutral when NeutralOnly.Contains(neutral):
                    if (IsNeutral(neutral, value)) break;
                    return Refused(neutral);
                default:
                    return $"body.{name}: this chat completions parameter has no Anthropic equivalent in BatchAspire";
            }
        }
        if (string.IsNullOrEmpty(model)) return "body.model: a model is required";
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0) return "body.messages: a non-empty array is required";

        w.WriteStartObject();
        w.WriteString("custom_id", id);
        w.WriteStartObject("params");
        w.WriteString("model", model);
        w.WriteNumber("max_tokens", maxCompletionTokens ?? maxTokens ?? DefaultMaxTokens);
        if (WriteMessages(messages, w) is { } messagesError) return messagesError;
        if (temperature is { } temperatureValue) w.WriteNumber("temperature", temperatureValue);
        if (topP is { } topPValue) w.WriteNumber("top_p", topPValue);
        if (stop.ValueKind != JsonValueKind.Undefined)
        {
            w.WriteStartArray("stop_sequences");
            if (stop.ValueKind == JsonValueKind.String) w.WriteStringValue(stop.GetString());
            else foreach (var sequence in stop.EnumerateArray()) w.WriteStringValue(sequence.GetString());
            w.WriteEndArray();
        }
        if (user is not null)
        {
            w.WriteStartObject("metadata");
            w.WriteString("user_id", user);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
        return null;
    }

    /// <summary>
    /// System and developer messages before the conversation become <c>system</c> (Anthropic has one system prompt, given
    /// before the messages); user and assistant messages keep their order.
    /// </summary>
    private static string? WriteMessages(JsonElement messages, Utf8JsonWriter w)
    {
        var system = new List<string>();
        var index = 0;
        var conversationStart = -1;
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"body.messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String)
            {
                return $"{at}.role: a string is required";
            }
            var role = roleElement.GetString();
            if (role is "system" or "developer")
            {
                if (conversationStart >= 0)
                {
                    return $"{at}: a {role} message after the conversation has begun has no Anthropic equivalent (its one system prompt comes before the messages)";
                }
                if (SystemText(message, at, system) is { } systemError) return systemError;
            }
            else if (role is "user" or "assistant")
            {
                if (conversationStart < 0) conversationStart = index;
                foreach (var field in new[] { "tool_calls", "function_call", "audio" })
                {
                    if (message.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null &&
                        !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0))
                    {
                        return $"{at}.{field}: {(field == "audio" ? "audio" : "tool calls")} are not translated to Anthropic";
                    }
                }
                if (!message.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
                {
                    return $"{at}.content: a string or an array of content parts is required";
                }
                if (content.ValueKind == JsonValueKind.Array && CheckParts(content, at, role == "user") is { } partError) return partError;
            }
            else
            {
                return role is "tool" or "function"
                    ? $"{at}: {role} messages (tool results) are not translated to Anthropic"
                    : $"{at}.role: '{Shorten(role ?? "")}' is not a chat completions role";
            }
            index++;
        }
        if (conversationStart < 0) return "body.messages: at least one user or assistant message is required";

        if (system.Count == 1)
        {
            w.WriteString("system", system[0]);
        }
        else if (system.Count > 1)
        {
            w.WriteStartArray("system");
            foreach (var text in system) WriteTextBlock(w, text);
            w.WriteEndArray();
        }
        w.WriteStartArray("messages");
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (i++ < conversationStart) continue;
            w.WriteStartObject();
            w.WriteString("role", message.GetProperty("role").GetString());
            var content = message.GetProperty("content");
            if (content.ValueKind == JsonValueKind.String)
            {
                w.WriteString("content", content.GetString());
            }
            else
            {
                w.WriteStartArray("content");
                foreach (var part in content.EnumerateArray()) WritePart(part, w);
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        return null;
    }

    private static string? SystemText(JsonElement message, string at, List<string> system)
    {
        if (!message.TryGetProperty("content", out var content)) return $"{at}.content: a string is required";
        if (content.ValueKind == JsonValueKind.String)
        {
            system.Add(content.GetString()!);
            return null;
        }
        if (content.ValueKind != JsonValueKind.Array) return $"{at}.content: a string or an array of text parts is required";
        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || !type.ValueEquals("text"u8) ||
                !part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                return $"{at}.content[{j}]: a system prompt can hold only text parts";
            }
            system.Add(text.GetString()!);
            j++;
        }
        return null;
    }

    private static string? CheckParts(JsonElement content, string at, bool isUser)
    {
        var j = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partAt = $"{at}.content[{j++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return $"{partAt}.type: a string is required";
            }
            switch (type.GetString())
            {
                case "text":
                    if (!part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String) return $"{partAt}.text: a string is required";
                    break;
                case "image_url":
                    if (!isUser) return $"{partAt}: Anthropic takes images only in user messages";
                    if (ImageUrl(part) is not { Length: > 0 } url) return $"{partAt}.image_url.url: a string is required";
                    if (url.StartsWith("data:", StringComparison.Ordinal))
                    {
                        if (!TrySplitDataUrl(url, out var mediaType, out _))
                        {
                            return $"{partAt}.image_url.url: only base64 data URLs (data:<media type>;base64,<data>) can be translated";
                        }
                        if (!ImageMediaTypes.Contains(mediaType))
                        {
                            return $"{partAt}.image_url.url: media type '{Shorten(mediaType)}' is not one Anthropic accepts ({string.Join(", ", ImageMediaTypes)})";
                        }
                    }
                    else if (!url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
                    {
                        return $"{partAt}.image_url.url: an http(s) URL or a base64 data URL is required";
                    }
                    break;
                case var other:
                    return $"{partAt}: '{Shorten(other ?? "")}' parts have no Anthropic equivalent in BatchAspire (text and image_url are translated)";
            }
        }
        return null;
    }

    /// <summary>Writes a part <see cref="CheckParts"/> accepted. <c>image_url.detail</c> has no Anthropic equivalent and is dropped.</summary>
    private static void WritePart(JsonElement part, Utf8JsonWriter w)
    {
        if (part.GetProperty("type").ValueEquals("text"u8))
        {
            WriteTextBlock(w, part.GetProperty("text").GetString()!);
            return;
        }
        var url = ImageUrl(part)!;
        w.WriteStartObject();
        w.WriteString("type", "image");
        w.WriteStartObject("source");
        if (TrySplitDataUrl(url, out var mediaType, out var data))
        {
            w.WriteString("type", "base64");
            w.WriteString("media_type", mediaType);
            w.WriteString("data", data);
        }
        else
        {
            w.WriteString("type", "url");
            w.WriteString("url", url);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteTextBlock(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    private static string? ImageUrl(JsonElement part)
    {
        if (!part.TryGetProperty("image_url", out var image)) return null;
        if (image.ValueKind == JsonValueKind.String) return image.GetString();
        return image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
            ? url.GetString()
            : null;
    }

    private static bool TrySplitDataUrl(string url, out string mediaType, out ReadOnlySpan<char> data)
    {
        mediaType = "";
        data = default;
        if (!url.StartsWith("data:", StringComparison.Ordinal)) return false;
        var comma = url.IndexOf(',');
        if (comma < 0) return false;
        var header = url.AsSpan(5, comma - 5);
        if (!header.EndsWith(";base64", StringComparison.Ordinal)) return false;
        mediaType = header[..^7].ToString().ToLowerInvariant();
        data = url.AsSpan(comma + 1);
        return true;
    }

    private static bool IsNeutral(string name, JsonElement value) => value.ValueKind == JsonValueKind.Null || name switch
    {
        "logprobs" => value.ValueKind == JsonValueKind.False,
        "top_logprobs" or "presence_penalty" or "frequency_penalty" => value.TryGetDouble(out var number) && number == 0,
        "logit_bias" => value.ValueKind == JsonValueKind.Object && !value.EnumerateObject().Any(),
        "response_format" => value.ValueKind == JsonValueKind.Object && value.TryGetProperty("type", out var type) && type.ValueEquals("text"u8),
        "tools" => value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0,
        "tool_choice" => value.ValueKind == JsonValueKind.String && value.ValueEquals("none"u8),
        "modalities" => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(m => m.ValueEquals("text"u8)),
        _ => false,
    };

    private static string Refused(string name) => name switch
    {
        "tools" or "tool_choice" => $"body.{name}: tools are not translated to Anthropic yet (tool definitions, tool calls and tool results differ)",
        "response_format" => "body.response_format: JSON mode and JSON schemas have no Anthropic equivalent in BatchAspire",
        "logprobs" or "top_logprobs" => $"body.{name}: Anthropic does not return log probabilities",
        "presence_penalty" or "frequency_penalty" or "logit_bias" => $"body.{name}: Anthropic has no such sampling parameter",
        _ => $"body.{name}: only text output can be translated to Anthropic",
    };

    /// <summary>Whether Anthropic takes this custom_id as it is.</summary>
    public static bool IsAnthropicCustomId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
