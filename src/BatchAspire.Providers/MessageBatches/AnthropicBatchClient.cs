using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages.Batches;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Translation;
using BatchAspire.Providers.Translation;

namespace BatchAspire.Providers.MessageBatches;

/// <summary>The translator's JSON (<see cref="AnthropicRequestTranslator"/>) as the Anthropic SDK's request type.</summary>
public static class AnthropicSdkRequests
{
    public static Request ToSdkRequest(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<Request>(json) ?? throw new JsonException("A translated request is null.");
}

/// <summary>An Anthropic message batch as BatchAspire needs it: its id, where it is, and its counts.</summary>
public sealed record AnthropicBatchSnapshot(string Id, string ProcessingStatus, long Processing, long Succeeded, long Errored, long Canceled, long Expired)
{
    public bool Ended => ProcessingStatus == "ended";

    /// <summary>A cancel was asked for (by BatchAspire: a user's cancel or an expiry).</summary>
    public bool CancelInitiated { get; init; }

    public static AnthropicBatchSnapshot Of(MessageBatch batch)
    {
        var counts = batch.RequestCounts;
        return new(batch.ID, batch.ProcessingStatus.Raw(), counts.Processing, counts.Succeeded, counts.Errored, counts.Canceled, counts.Expired)
        {
            CancelInitiated = batch.CancelInitiatedAt is not null,
        };
    }

    /// <summary>
    /// The batch as the pipeline reads an OpenAI batch: <c>in_progress</c>, <c>cancelling</c>, and once ended
    /// <c>completed</c> (or <c>cancelled</c> when a cancel was asked for), so an ended batch takes the same
    /// <c>ChunkFinished</c> path. Counts: succeeded are completed; errored, canceled and expired are failed.
    /// </summary>
    public ProviderBatchSnapshot ToProviderSnapshot() => new()
    {
        Id = Id,
        Status = ProcessingStatus switch
        {
            "ended" => CancelInitiated ? JobStatus.Cancelled : JobStatus.Completed,
            "canceling" => JobStatus.Cancelling,
            _ => JobStatus.InProgress,
        },
        RequestCounts = new ProviderRequestCounts(Processing + Succeeded + Errored + Canceled + Expired, Succeeded, Errored + Canceled + Expired),
    };
}

/// <summary>One translated result: the Anthropic outcome and the OpenAI result line (valid until the next one).</summary>
public readonly record struct AnthropicResultLine(TranslatedResult Result, ReadOnlyMemory<byte> OpenAILine);

/// <summary>
/// Anthropic's Message Batches API through the official <c>Anthropic</c> .NET SDK: create a batch from requests
/// <see cref="AnthropicRequestTranslator"/> made, retrieve and cancel it, and stream its results as OpenAI result lines.
/// Used for chunks routed to a provider of kind anthropic (<see cref="ProviderDirectory"/>). The SDK's own retries (429, 5xx, lost
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
    public Task<AnthropicBatchSnapshot> CreateAsync(IEnumerable<ReadOnlyMemory<byte>> translatedRequests, CancellationToken ct) =>
        CallAsync("create message batch", async () =>
        {
            var requests = translatedRequests.Select(json => AnthropicSdkRequests.ToSdkRequest(json.Span)).ToList();
            return AnthropicBatchSnapshot.Of(await client.Messages.Batches.Create(new BatchCreateParams { Requests = requests }, ct));
        });

    public Task<AnthropicBatchSnapshot> RetrieveAsync(string batchId, CancellationToken ct) =>
        CallAsync("retrieve message batch", async () => AnthropicBatchSnapshot.Of(await client.Messages.Batches.Retrieve(batchId, new BatchRetrieveParams(), ct)));

    public Task<AnthropicBatchSnapshot> CancelAsync(string batchId, CancellationToken ct) =>
        CallAsync("cancel message batch", async () => AnthropicBatchSnapshot.Of(await client.Messages.Batches.Cancel(batchId, new BatchCancelParams(), ct)));

    /// <summary>
    /// SDK errors as <see cref="ProviderCallException"/> (status only: the SDK's messages may hold the body), so
    /// <c>FaultRule</c> sorts them as it sorts OpenAI's; a call that got no answer is status 0.
    /// </summary>
    private static async Task<T> CallAsync<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (AnthropicApiException exception)
        {
            throw new ProviderCallException(operation, (int)exception.StatusCode, null, null);
        }
        catch (AnthropicIOException)
        {
            throw new ProviderCallException(operation, 0, null, null);
        }
    }

    /// <summary>
    /// The ended batch's results, one at a time as the SDK streams them, each as an OpenAI result line.
    /// <paramref name="customIds"/> maps the custom_id sent to Anthropic back to the line's own (when it had to be replaced).
    /// </summary>
    public async IAsyncEnumerable<AnthropicResultLine> ResultsAsync(string batchId, Func<string, string?>? customIds = null,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        await using var responses = client.Messages.Batches.ResultsStreaming(batchId, new BatchResultsParams(), ct).GetAsyncEnumerator(ct);
        while (true)
        {
            if (!await CallAsync("download message batch results", async () => await responses.MoveNextAsync())) break;
            var response = responses.Current;
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var result = AnthropicResultTranslator.Translate(response, writer, time.GetUtcNow().ToUnixTimeSeconds(), customIds?.Invoke(response.CustomID));
            writer.Flush();
            yield return new AnthropicResultLine(result, buffer.WrittenMemory);
        }
    }
}
