using System.Text.Json;

namespace BatchAspire.Sandbox.Executors;

/// <summary>
/// The default executor: answers every line in-process, deterministically and fast, with real
/// response bodies and real token counts (o200k). See docs/sandbox.md for what each endpoint answers.
/// </summary>
public sealed class LocalExecutor(TokenCounter tokens, TimeProvider time) : IRequestExecutor
{
    public int MaxParallelism => 1;

    public ValueTask<ExecutionResult> ExecuteAsync(string endpoint, JsonElement body, ExecutionScratch scratch, CancellationToken ct)
    {
        var context = new LocalContext(tokens, scratch, time.GetUtcNow().ToUnixTimeSeconds());
        var result = body.ValueKind != JsonValueKind.Object
            ? endpoint == "/v1/messages"
                ? context.AnthropicError(400, "params: Input should be a valid dictionary")
                : context.Error(400, "The request body must be a JSON object.", null, "invalid_request_body")
            : endpoint switch
            {
                "/v1/chat/completions" => LocalText.Chat(body, context),
                "/v1/completions" => LocalText.Completion(body, context),
                "/v1/responses" => LocalText.Response(body, context),
                "/v1/embeddings" => LocalEmbeddings.Execute(body, context),
                "/v1/moderations" => LocalModerations.Execute(body, context),
                "/v1/messages" => LocalText.Messages(body, context),
                _ => context.Error(400, $"The sandbox's local executor does not implement {endpoint}.", null, "unsupported_endpoint"),
            };
        return ValueTask.FromResult(result);
    }
}

/// <summary>Per-call helpers shared by the local endpoint implementations.</summary>
public readonly struct LocalContext(TokenCounter tokens, ExecutionScratch scratch, long now)
{
    public TokenCounter Tokens => tokens;
    public long Now => now;

    public Utf8JsonWriter Begin() => scratch.Begin();

    public ExecutionResult Done(TokenUsage usage) => new(200, scratch.End(), usage);

    public ExecutionResult Error(int status, string message, string? param, string? code, string type = "invalid_request_error")
    {
        var w = scratch.Begin();
        w.WriteStartObject();
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteString("param", param);
        w.WriteString("code", code);
        w.WriteEndObject();
        w.WriteEndObject();
        return new(status, scratch.End(), default);
    }

    /// <summary>An error in Anthropic's shape, for the Messages API.</summary>
    public ExecutionResult AnthropicError(int status, string message)
    {
        var w = scratch.Begin();
        Http.AnthropicError.Write(w, Http.AnthropicError.TypeFor(status), message);
        return new(status, scratch.End(), default);
    }

    public static string Model(JsonElement body, string fallback) =>
        body.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString()! : fallback;

    /// <summary>Reads an optional positive integer limit; returns false (and the 400 to send) when it is invalid.</summary>
    public bool TryLimit(JsonElement body, string name, int max, out int? value, out ExecutionResult error)
    {
        value = null;
        error = default;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return true;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out var number))
        {
            error = Error(400, $"Invalid type for '{name}': expected an integer.", name, "invalid_type");
            return false;
        }
        if (number < 1)
        {
            error = Error(400, $"Invalid '{name}': integer below minimum value. Expected a value >= 1, but got {number} instead.", name, "integer_below_min_value");
            return false;
        }
        if (number > max)
        {
            error = Error(400, $"{name} is too large: {number}. This model supports at most {max} completion tokens, whereas you provided {number}.", name, "invalid_value");
            return false;
        }
        value = (int)number;
        return true;
    }
}
