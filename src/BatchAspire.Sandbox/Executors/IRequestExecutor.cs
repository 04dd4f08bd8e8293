using System.Buffers;
using System.Text.Json;

namespace BatchAspire.Sandbox.Executors;

public record struct TokenUsage(long Prompt, long Completion, long Cached, long Reasoning);

/// <summary>What executing one request line produced: an HTTP status and its JSON body.</summary>
public readonly record struct ExecutionResult(int StatusCode, ReadOnlyMemory<byte> Body, TokenUsage Usage)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}

/// <summary>Reusable buffers for one batch's executions, so the hot path allocates almost nothing.</summary>
public sealed class ExecutionScratch
{
    public ArrayBufferWriter<byte> Body { get; } = new(16 * 1024);
    public Utf8JsonWriter Json { get; }

    public ExecutionScratch() => Json = new Utf8JsonWriter(Body, Http.WireJson.Unchecked);

    public Utf8JsonWriter Begin()
    {
        Body.ResetWrittenCount();
        Json.Reset(Body);
        return Json;
    }

    public ReadOnlyMemory<byte> End()
    {
        Json.Flush();
        return Body.WrittenMemory;
    }
}

/// <summary>Runs one request line of a batch (the body an endpoint would take synchronously).</summary>
public interface IRequestExecutor
{
    /// <summary>1 = lines run one after another on the batch's thread; more = lines of a batch run concurrently.</summary>
    int MaxParallelism { get; }

    /// <param name="endpoint">The batch endpoint, e.g. <c>/v1/chat/completions</c>.</param>
    /// <param name="body">The line's <c>body</c>.</param>
    /// <param name="scratch">Buffers the result body may be written into; valid until the next call with the same scratch.</param>
    ValueTask<ExecutionResult> ExecuteAsync(string endpoint, JsonElement body, ExecutionScratch scratch, CancellationToken ct);
}
