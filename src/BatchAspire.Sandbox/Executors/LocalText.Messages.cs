using System.Text.Json;

namespace BatchAspire.Sandbox.Executors;

public static partial class LocalText
{
    /// <summary>
    /// Anthropic's Messages API (the <c>params</c> of a message batch request): the same answers as chat completions,
    /// as a <c>message</c> with <c>stop_reason</c> and Anthropic's usage. <c>stop_sequences</c> cut the answer at the
    /// first one found. Token counts are o200k's, not Anthropic's tokenizer: close enough for a sandbox.
    /// </summary>
    public static ExecutionResult Messages(JsonElement body, LocalContext context)
    {
        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
        {
            return context.AnthropicError(400, "model: Field required");
        }
        if (!body.TryGetProperty("max_tokens", out var maxTokensElement) || maxTokensElement.ValueKind == JsonValueKind.Null)
        {
            return context.AnthropicError(400, "max_tokens: Field required");
        }
        if (!maxTokensElement.TryGetInt32(out var maxTokens) || maxTokens < 1)
        {
            return context.AnthropicError(400, "max_tokens: Input should be a positive integer");
        }
        if (maxTokens > MaxCompletionTokens)
        {
            return context.AnthropicError(400, $"max_tokens: {maxTokens} > {MaxCompletionTokens}, which is the maximum allowed number of output tokens for {modelName}");
        }
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return context.AnthropicError(400, "messages: Field required");
        }
        if (messages.GetArrayLength() == 0) return context.AnthropicError(400, "messages: at least one message is required");
        if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            return context.AnthropicError(400, "stream: Streaming is not supported in the Message Batches API");
        }

        var prompt = new Prompt { Tokens = 3 };
        if (body.TryGetProperty("system", out var system)) AddTurn(prompt, context, isUser: false, system, "text", "image");
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) ||
                !(role.ValueEquals("user"u8) || role.ValueEquals("assistant"u8)))
            {
                return context.AnthropicError(400, $"messages.{index}.role: Input should be 'user' or 'assistant'");
            }
            if (!message.TryGetProperty("content", out var content) || content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return context.AnthropicError(400, $"messages.{index}.content: Field required");
            }
            prompt.Tokens += 3 + context.Tokens.Count(role.GetString());
            AddTurn(prompt, context, role.ValueEquals("user"u8), content, "text", "image");
            index++;
        }

        var (answer, tokens, _) = Answer(prompt, context, null);
        string? stopSequence = null;
        if (body.TryGetProperty("stop_sequences", out var stops) && stops.ValueKind == JsonValueKind.Array)
        {
            var cut = answer.Length;
            foreach (var stop in stops.EnumerateArray())
            {
                if (stop.ValueKind != JsonValueKind.String || stop.GetString() is not { Length: > 0 } text) continue;
                var at = answer.IndexOf(text, StringComparison.Ordinal);
                if (at >= 0 && at < cut)
                {
                    cut = at;
                    stopSequence = text;
                }
            }
            if (stopSequence is not null)
            {
                answer = answer[..cut];
                tokens = context.Tokens.Count(answer);
            }
        }
        var (length, fitted) = context.Tokens.Fit(answer, maxTokens, tokens);
        var truncated = length < answer.Length;
        if (truncated)
        {
            answer = answer[..length];
            stopSequence = null;
        }

        var w = context.Begin();
        w.WriteStartObject();
        WriteId(w, "id", "msg_"u8);
        w.WriteString("type", "message");
        w.WriteString("role", "assistant");
        w.WriteString("model", modelName);
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", answer);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteString("stop_reason", truncated ? "max_tokens" : stopSequence is not null ? "stop_sequence" : "end_turn");
        w.WriteString("stop_sequence", stopSequence);
        var usage = new TokenUsage(prompt.Tokens, fitted, 0, 0);
        w.WriteStartObject("usage");
        w.WriteNumber("input_tokens", usage.Prompt);
        w.WriteNumber("cache_creation_input_tokens", 0);
        w.WriteNumber("cache_read_input_tokens", 0);
        w.WriteNumber("output_tokens", usage.Completion);
        w.WriteString("service_tier", "batch");
        w.WriteEndObject();
        w.WriteEndObject();
        return context.Done(usage);
    }
}
