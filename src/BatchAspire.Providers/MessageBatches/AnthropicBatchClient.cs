using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages.Batches;
using BatchAspire.Providers.Translation;

namespace BatchAspire.Providers.MessageBatches;

/// <summary>An Anthropic message batch as BatchAspire needs it: its id, where it is, and its counts.</summary>
public sealed record AnthropicBatchSnapshot(string Id, string ProcessingStatus, long Processing, long Succeeded, long Errored, long Canceled, long Expired)
{
    public bool Ended => ProcessingStatus == "ended";

    public static AnthropicBatchSnapshot Of(MessageBatch batch)
    {
        var counts = batch.RequestCounts;
        return new(batch.ID, batch.ProcessingStatus.Raw(), counts.Processing, counts.Succeeded, counts.Errored, counts.Canceled, counts.Expired);
    }
}

/// <summary>One translated result: the Anthropic outcome and the OpenAI result line (valid until the next one).</summary>
public readonly record struct AnthropicResultLine(TranslatedResult Result, ReadOnlyMemory<byte> OpenAILine);

/// <summary>
/// Anthropic's Message Batches API through the official <c>Anthropic</c> .NET SDK: create a batch from requests
/// <see cref="AnthropicRequestTranslator"/> made, retrieve and cancel it, and stream its results as OpenAI result lines.
/// Not wired into the pipeline yet (routing comes first, docs/providers.md). The SDK's own retries (429, 5xx, lost
/// connections, with its backoff) are the one retry layer of these calls.
/// </summary>
public sealed class AnthropicBatchClient(IAnthropicClient client, TimeProvider time)
{
    /// <summary>A client of the API at <paramref name="baseUrl"/> (the root: the SDK adds <c>/v1</c>).</summary>
    public static AnthropicBatchClient Create(Uri baseUrl, string apiKey, TimeProvider? time = null, HttpClient? http = null, int maxRetries = 2) =>
        new(new AnthropicClient(new ClientOptions
        {
            BaseUrl = baseUrl.AbsoluteUri.TrimEnd('/'),
            ApiKey = apiKey,
            MaxRetries = maxRetries,
            HttpClient = http ?? new HttpClient(),
        }), time ?? TimeProvider.System);

    /// <summary>
    /// Creates a batch of translated requests (each <c>{"custom_id","params"}</c> as the translator wrote it). The SDK sends
    /// the requests inline, so they are all held while the call runs: at most Anthropic's 256 MB per batch.
    /// </summary>
    public async Task<AnthropicBatchSnapshot> CreateAsync(IEnumerable<ReadOnlyMemory<byte>> translatedRequests, CancellationToken ct)
    {
        var requests = translatedRequests.Select(json => AnthropicRequestTranslator.ToSdkRequest(json.Span)).ToList();
        return AnthropicBatchSnapshot.Of(await client.Messages.Batches.Create(new BatchCreateParams { Requests = requests }, ct));
    }

    public async Task<AnthropicBatchSnapshot> RetrieveAsync(string batchId, CancellationToken ct) =>
        AnthropicBatchSnapshot.Of(await client.Messages.Batches.Retrieve(batchId, new BatchRetrieveParams(), ct));

    public async Task<AnthropicBatchSnapshot> CancelAsync(string batchId, CancellationToken ct) =>
        AnthropicBatchSnapshot.Of(await client.Messages.Batches.Cancel(batchId, new BatchCancelParams(), ct));

    /// <summary>
    /// The ended batch's results, one at a time as the SDK streams them, each as an OpenAI result line.
    /// <paramref name="customIds"/> maps the custom_id sent to Anthropic back to the line's own (when it had to be replaced).
    /// </summary>
    public async IAsyncEnumerable<AnthropicResultLine> ResultsAsync(string batchId, Func<string, string?>? customIds = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        await foreach (var response in client.Messages.Batches.ResultsStreaming(batchId, new BatchResultsParams(), ct).WithCancellation(ct))
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var result = AnthropicResultTranslator.Translate(response, writer, time.GetUtcNow().ToUnixTimeSeconds(), customIds?.Invoke(response.CustomID));
            writer.Flush();
            yield return new AnthropicResultLine(result, buffer.WrittenMemory);
        }
    }
}
