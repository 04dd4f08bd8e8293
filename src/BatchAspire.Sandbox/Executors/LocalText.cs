using System.Text;
using System.Text.Json;
using BatchAspire.Sandbox.Storage;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// Text generation for chat completions, legacy completions and responses: a sentiment label when
/// the prompt asks to classify sentiment, a caption when the last user turn has images, else an echo
/// of the last user text. Truncated to the token limit with <c>finish_reason: "length"</c>.
/// </summary>
public static partial class LocalText
{
    public const int MaxCompletionTokens = 128_000;
    private const int ImageTokens = 85;   // what a low-detail image costs on the real API
    private const string EmptyPromptAnswer = "Hello from the BatchAspire sandbox.";

    private sealed class Prompt
    {
        public long Tokens;
        public bool AsksSentiment;
        public string? LastUserText;
        public int LastUserTokens;
        public List<string>? LastUserImages;
    }

    public static ExecutionResult Chat(JsonElement body, LocalContext context)
    {
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return context.Error(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
        }
        var limitName = body.TryGetProperty("max_completion_tokens", out _) ? "max_completion_tokens" : "max_tokens";
        if (!context.TryLimit(body, limitName, MaxCompletionTokens, out var maxTokens, out var error)) return error;
        var choices = 1;
        if (body.TryGetProperty("n", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var nValue)) choices = Math.Clamp(nValue, 1, 8);

        var prompt = new Prompt { Tokens = 3 };
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                return context.Error(400, $"Missing required parameter: 'messages[{index}].role'.", $"messages[{index}].role", "missing_required_parameter");
            }
            var roleName = role.GetString()!;
            prompt.Tokens += 3 + context.Tokens.Count(roleName);
            if (message.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                prompt.Tokens += 1 + context.Tokens.Count(name.GetString());
            }
            message.TryGetProperty("content", out var content);
            AddTurn(prompt, context, roleName == "user", content, "text", "image_url");
            index++;
        }

        var (answer, completionTokens, truncated) = Answer(prompt, context, maxTokens);
        var w = context.Begin();
        w.WriteStartObject();
        WriteId(w, "id", "chatcmpl-"u8);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", context.Now);
        w.WriteString("model", LocalContext.Model(body, "gpt-4o-mini"));
        w.WriteStartArray("choices");
        for (var i = 0; i < choices; i++)
        {
            w.WriteStartObject();
            w.WriteNumber("index", i);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", answer);
            w.WriteNull("refusal");
            w.WriteStartArray("annotations");
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteString("finish_reason", truncated ? "length" : "stop");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        var usage = new TokenUsage(prompt.Tokens, (long)completionTokens * choices, 0, 0);
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.Prompt);
        w.WriteNumber("completion_tokens", usage.Completion);
        w.WriteNumber("total_tokens", usage.Prompt + usage.Completion);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteNumber("audio_tokens", 0);
        w.WriteNumber("accepted_prediction_tokens", 0);
        w.WriteNumber("rejected_prediction_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteString("service_tier", "default");
        w.WriteString("system_fingerprint", "fp_sandbox");
        w.WriteEndObject();
        return context.Done(usage);
    }

    public static ExecutionResult Completion(JsonElement body, LocalContext context)
    {
        if (!body.TryGetProperty("prompt", out var promptElement))
        {
            return context.Error(400, "Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
        }
        if (!context.TryLimit(body, "max_tokens", MaxCompletionTokens, out var maxTokens, out var error)) return error;
        var prompt = new Prompt();
        AddTurn(prompt, context, isUser: true, promptElement, "text", "image_url");
        var (answer, completionTokens, truncated) = Answer(prompt, context, maxTokens ?? 16);   // the legacy endpoint's default
        var w = context.Begin();
        w.WriteStartObject();
        WriteId(w, "id", "cmpl-"u8);
        w.WriteString("object", "text_completion");
        w.WriteNumber("created", context.Now);
        w.WriteString("model", LocalContext.Model(body, "gpt-3.5-turbo-instruct"));
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteString("text", answer);
        w.WriteNumber("index", 0);
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", truncated ? "length" : "stop");
        w.WriteEndObject();
        w.WriteEndArray();
        var usage = new TokenUsage(prompt.Tokens, completionTokens, 0, 0);
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", usage.Prompt);
        w.WriteNumber("completion_tokens", usage.Completion);
        w.WriteNumber("total_tokens", usage.Prompt + usage.Completion);
        w.WriteEndObject();
        w.WriteEndObject();
        return context.Done(usage);
    }

    public static ExecutionResult Response(JsonElement body, LocalContext context)
    {
        if (!body.TryGetProperty("input", out var input))
        {
            return context.Error(400, "Missing required parameter: 'input'.", "input", "missing_required_parameter");
        }
        if (!context.TryLimit(body, "max_output_tokens", MaxCompletionTokens, out var maxTokens, out var error)) return error;
        var prompt = new Prompt();
        if (body.TryGetProperty("instructions", out var instructions)) AddTurn(prompt, context, isUser: false, instructions, "input_text", "input_image");
        if (input.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in input.EnumerateArray())
            {
                var isUser = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("role", out var role) && role.ValueEquals("user"u8);
                if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content))
                {
                    prompt.Tokens += 3;
                    AddTurn(prompt, context, isUser, content, "input_text", "input_image");
                }
            }
        }
        else
        {
            AddTurn(prompt, context, isUser: true, input, "input_text", "input_image");
        }

        var (answer, completionTokens, truncated) = Answer(prompt, context, maxTokens);
        var w = context.Begin();
        w.WriteStartObject();
        WriteId(w, "id", "resp_"u8);
        w.WriteString("object", "response");
        w.WriteNumber("created_at", context.Now);
        w.WriteString("status", truncated ? "incomplete" : "completed");
        w.WriteNull("error");
        if (truncated)
        {
            w.WriteStartObject("incomplete_details");
            w.WriteString("reason", "max_output_tokens");
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("incomplete_details");
        }
        w.WriteString("model", LocalContext.Model(body, "gpt-4o-mini"));
        w.WriteStartArray("output");
        w.WriteStartObject();
        WriteId(w, "id", "msg_"u8);
        w.WriteString("type", "message");
        w.WriteString("status", truncated ? "incomplete" : "completed");
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "output_text");
        w.WriteString("text", answer);
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndArray();
        var usage = new TokenUsage(prompt.Tokens, completionTokens, 0, 0);
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", usage.Prompt);
        w.WriteStartObject("input_tokens_details");
        w.WriteNumber("cached_tokens", 0);
        w.WriteEndObject();
        w.WriteNumber("output_tokens", usage.Completion);
        w.WriteStartObject("output_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteEndObject();
        w.WriteNumber("total_tokens", usage.Prompt + usage.Completion);
        w.WriteEndObject();
        w.WriteEndObject();
        return context.Done(usage);
    }

    /// <summary>Adds one turn's content (a string, or an array of text/image parts) to the prompt.</summary>
    private static void AddTurn(Prompt prompt, LocalContext context, bool isUser, JsonElement content, string textType, string imageType)
    {
        string text;
        List<string>? images = null;
        switch (content.ValueKind)
        {
            case JsonValueKind.String:
                text = content.GetString()!;
                break;
            case JsonValueKind.Array:
                var builder = new StringBuilder();
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind == JsonValueKind.String)
                    {
                        Append(builder, part.GetString()!);
                        continue;
                    }
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type)) continue;
                    if ((type.ValueEquals(textType) || type.ValueEquals("text"u8)) && part.TryGetProperty("text", out var partText) && partText.ValueKind == JsonValueKind.String)
                    {
                        Append(builder, partText.GetString()!);
                    }
                    else if (type.ValueEquals(imageType) || type.ValueEquals("image_url"u8))
                    {
                        (images ??= []).Add(ImageUrl(part));
                        prompt.Tokens += ImageTokens;
                    }
                }
                text = builder.ToString();
                break;
            default:
                text = "";
                break;
        }
        var tokens = context.Tokens.Count(text);
        prompt.Tokens += tokens;
        if (text.Contains("sentiment", StringComparison.OrdinalIgnoreCase)) prompt.AsksSentiment = true;
        if (isUser)
        {
            prompt.LastUserText = text;
            prompt.LastUserTokens = tokens;
            prompt.LastUserImages = images;
        }
    }

    private static void Append(StringBuilder builder, string text)
    {
        if (builder.Length > 0) builder.Append('\n');
        builder.Append(text);
    }

    private static string ImageUrl(JsonElement part)
    {
        // Anthropic's image block: {"type":"image","source":{"type":"url","url"} or {"type":"base64","media_type","data"}}.
        if (part.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object)
        {
            return source.TryGetProperty("url", out var sourceUrl) && sourceUrl.ValueKind == JsonValueKind.String ? sourceUrl.GetString()!
                : source.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String ? data.GetString()!
                : "";
        }
        if (!part.TryGetProperty("image_url", out var url)) return "";
        if (url.ValueKind == JsonValueKind.String) return url.GetString()!;
        return url.ValueKind == JsonValueKind.Object && url.TryGetProperty("url", out var inner) && inner.ValueKind == JsonValueKind.String
            ? inner.GetString()!
            : "";
    }

    private static (string Answer, int Tokens, bool Truncated) Answer(Prompt prompt, LocalContext context, int? maxTokens)
    {
        var answer = prompt.LastUserImages is { Count: > 0 } images ? Captions.For(images)
            : prompt.AsksSentiment ? SentimentLexicon.Classify(prompt.LastUserText ?? "")
            : string.IsNullOrEmpty(prompt.LastUserText) ? EmptyPromptAnswer
            : prompt.LastUserText;
        // The echo of the prompt is the usual answer: its count is known, so it is not tokenized a second time.
        int? known = ReferenceEquals(answer, prompt.LastUserText) ? prompt.LastUserTokens : null;
        if (maxTokens is not { } max) return (answer, known ?? context.Tokens.Count(answer), false);
        var (length, tokens) = context.Tokens.Fit(answer, max, known);
        return length < answer.Length ? (answer[..length], tokens, true) : (answer, tokens, false);
    }

    private static void WriteId(Utf8JsonWriter writer, string name, ReadOnlySpan<byte> prefix)
    {
        Span<byte> id = stackalloc byte[prefix.Length + 24];
        writer.WriteString(name, id[..Ids.WriteFastId(prefix, id)]);
    }
}
