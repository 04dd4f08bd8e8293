using System.Text.Json;
using Anthropic.Exceptions;
using Anthropic.Models;
using Anthropic.Models.Messages;
using Anthropic.Models.Messages.Batches;

namespace BatchAspire.Providers.Translation;

/// <summary>How a Message Batches result ended.</summary>
public enum AnthropicResultKind
{
    Succeeded,
    Errored,
    Canceled,
    Expired,
}

/// <summary>The Anthropic result line's custom_id and outcome; the OpenAI line went to the writer.</summary>
public readonly record struct TranslatedResult(string CustomId, AnthropicResultKind Kind);

/// <summary>
/// A result line of Anthropic's Message Batches API (<c>{"custom_id","result":{…}}</c>, read with the Anthropic SDK's
/// types) → an OpenAI Batch result line that BatchAspire's results service reads as it reads OpenAI's:
/// <list type="bullet">
/// <item><c>succeeded</c> → status 200 and a <c>chat.completion</c> body (text, <c>finish_reason</c>, usage);</item>
/// <item><c>errored</c> → the status Anthropic gives that error type, and an OpenAI error body (429 and 5xx are
/// retried, other 4xx are final);</item>
/// <item><c>canceled</c> / <c>expired</c> → <c>response: null</c> with <c>batch_cancelled</c> / <c>batch_expired</c>, the
/// lines OpenAI writes for requests never run, retried as those are.</item>
/// </list>
/// </summary>
public static class AnthropicResultTranslator
{
    public const string ExpiredMessage = "This request could not be executed before the completion window expired.";
    public const string CancelledMessage = "This request was not executed because the batch was cancelled.";

    /// <summary>
    /// Translates one result line. <paramref name="created"/> is the <c>created</c> of the chat.completion (unix
    /// seconds; Anthropic's message has none); <paramref name="customId"/> replaces the line's custom_id (the caller's
    /// original, when it sent Anthropic its own). Throws <see cref="InvalidDataException"/> for a line that is not a
    /// Message Batches result.
    /// </summary>
    public static TranslatedResult Translate(ReadOnlySpan<byte> line, Utf8JsonWriter writer, long created, string? customId = null)
    {
        MessageBatchIndividualResponse? response;
        try
        {
            response = JsonSerializer.Deserialize<MessageBatchIndividualResponse>(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("The provider's result line is not a Message Batches result.", e);
        }
        return Translate(response ?? throw new InvalidDataException("The provider's result line is not a Message Batches result (null)."),
            writer, created, customId);
    }

    /// <summary>The same, from the result as the Anthropic SDK's results stream gives it.</summary>
    public static TranslatedResult Translate(MessageBatchIndividualResponse response, Utf8JsonWriter writer, long created, string? customId = null)
    {
        // The SDK reads a field when it is first asked for: everything is read before the first byte is written, so a
        // malformed result writes nothing.
        try
        {
            var id = customId ?? response.CustomID;
            var result = response.Result;
            if (result.TryPickSucceeded(out var succeeded))
            {
                WriteSucceeded(writer, id, Completion.Of(succeeded.Message), created);
                return new(response.CustomID, AnthropicResultKind.Succeeded);
            }
            if (result.TryPickErrored(out var errored))
            {
                var error = errored.Error;
                WriteErrored(writer, id, error.Error.Type.Raw(), error.Error.Message, error.RequestID);
                return new(response.CustomID, AnthropicResultKind.Errored);
            }
            var expired = result.TryPickExpired(out _);
            if (!expired && !result.TryPickCanceled(out _))
            {
                throw new InvalidDataException($"A Message Batches result of an unknown type '{result.Type.Raw()}'.");
            }
            WriteNotRun(writer, id, expired);
            return new(response.CustomID, expired ? AnthropicResultKind.Expired : AnthropicResultKind.Canceled);
        }
        catch (Exception e) when (e is JsonException or AnthropicInvalidDataException)
        {
            throw new InvalidDataException("The provider's result line is not a Message Batches result.", e);
        }
    }

    /// <summary>What a chat.completion takes from an Anthropic message.</summary>
    private sealed record Completion(string Id, string Model, string Text, string FinishReason, long InputTokens, long CachedTokens, long OutputTokens)
    {
        public static Completion Of(Message message)
        {
            var usage = message.Usage;
            var cached = usage.CacheReadInputTokens ?? 0;
            return new(
                message.ID,
                message.Model.Raw(),
                string.Concat(message.Content.Select(block => block.TryPickText(out var text) ? text.Text : "")),
                AnthropicResultTranslator.FinishReason(message.StopReason?.Raw()),
                // Anthropic counts cached and cache-writing input apart from input_tokens; OpenAI's prompt_tokens holds them all.
                usage.InputTokens + cached + (usage.CacheCreationInputTokens ?? 0),
                cached,
                usage.OutputTokens);
        }
    }

    /// <summary>OpenAI's <c>finish_reason</c> for an Anthropic <c>stop_reason</c>.</summary>
    public static string FinishReason(string? stopReason) => stopReason switch
    {
        "max_tokens" or "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",   // end_turn, stop_sequence, pause_turn, none
    };

    /// <summary>The HTTP status the Messages API answers with each error type.</summary>
    public static int StatusCode(string errorType) => errorType switch
    {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,   // api_error and any type added later: retried, like a 5xx
    };

    private static void WriteSucceeded(Utf8JsonWriter w, string customId, Completion c, long created)
    {
        var suffix = c.Id.StartsWith("msg_", StringComparison.Ordinal) ? c.Id[4..] : c.Id;
        w.WriteStartObject();
        w.WriteString("id", "batch_req_" + suffix);
        w.WriteString("custom_id", customId);
        w.WriteStartObject("response");
        w.WriteNumber("status_code", 200);
        w.WriteString("request_id", "req_" + suffix);
        w.WriteStartObject("body");
        w.WriteString("id", c.Id);
        w.WriteString("object", "chat.completion");
        w.WriteNumber("created", created);
        w.WriteString("model", c.Model);
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        w.WriteStartObject("message");
        w.WriteString("role", "assistant");
        w.WriteString("content", c.Text);
        w.WriteNull("refusal");
        w.WriteStartArray("annotations");
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteNull("logprobs");
        w.WriteString("finish_reason", c.FinishReason);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", c.InputTokens);
        w.WriteNumber("completion_tokens", c.OutputTokens);
        w.WriteNumber("total_tokens", c.InputTokens + c.OutputTokens);
        w.WriteStartObject("prompt_tokens_details");
        w.WriteNumber("cached_tokens", c.CachedTokens);
        w.WriteEndObject();
        w.WriteStartObject("completion_tokens_details");
        w.WriteNumber("reasoning_tokens", 0);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteNull("error");
        w.WriteEndObject();
    }

    private static void WriteErrored(Utf8JsonWriter w, string customId, string type, string message, string? requestId)
    {
        var status = StatusCode(type);
        w.WriteStartObject();
        w.WriteString("id", "batch_req_" + customId);
        w.WriteString("custom_id", customId);
        w.WriteStartObject("response");
        w.WriteNumber("status_code", status);
        w.WriteString("request_id", requestId ?? "");
        w.WriteStartObject("body");
        w.WriteStartObject("error");
        w.WriteString("message", message);
        w.WriteString("type", type);
        w.WriteNull("param");
        w.WriteString("code", status == 429 ? "rate_limit_exceeded" : null);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteNull("error");
        w.WriteEndObject();
    }

    private static void WriteNotRun(Utf8JsonWriter w, string customId, bool expired)
    {
        w.WriteStartObject();
        w.WriteString("id", "batch_req_" + customId);
        w.WriteString("custom_id", customId);
        w.WriteNull("response");
        w.WriteStartObject("error");
        w.WriteString("code", expired ? "batch_expired" : "batch_cancelled");
        w.WriteString("message", expired ? ExpiredMessage : CancelledMessage);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
