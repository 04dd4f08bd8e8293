using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using BatchAspire.Core.Providers;
using OpenAI.Batch;

namespace BatchAspire.Providers;

#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK

/// <summary>
/// The provider's Batches API as BatchAspire uses it, over the official SDK's protocol methods (raw JSON in
/// and out, because <c>BatchJob</c> lacks status and counts). Upload, create, list and download belong here
/// too, each turning SDK errors into <see cref="ProviderCallException"/> through <see cref="CallAsync{T}"/>.
/// </summary>
public sealed class ProviderBatches(BatchClient batches)
{
    /// <summary>GET /batches/{id}. Retried by the transport on 408/429/5xx (honouring Retry-After).</summary>
    public Task<ProviderBatchSnapshot> GetBatchAsync(string providerBatchId, CancellationToken cancellationToken) =>
        CallAsync("retrieve batch", async options =>
        {
            var result = await batches.GetBatchAsync(providerBatchId, options).ConfigureAwait(false);
            return ProviderBatchJson.Parse(result.GetRawResponse().Content);
        }, cancellationToken);

    /// <summary>Runs one SDK protocol call and replaces its exception with one that holds no provider message.</summary>
    internal static async Task<T> CallAsync<T>(string operation, Func<RequestOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        var options = new RequestOptions { CancellationToken = cancellationToken };
        try
        {
            return await call(options).ConfigureAwait(false);
        }
        catch (ClientResultException exception)
        {
            var (type, code) = ReadErrorEnvelope(exception.GetRawResponse());
            // Not passed as the inner exception: its message holds the response body.
            throw new ProviderCallException(operation, exception.Status, type, code);
        }
    }

    private static (string? Type, string? Code) ReadErrorEnvelope(PipelineResponse? response)
    {
        if (response is null) return (null, null);
        try
        {
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return (Short(error, "type"), Short(error, "code"));
            }
        }
        catch (JsonException)
        {
        }
        catch (InvalidOperationException)
        {
            // The body was not buffered; the status alone will do.
        }
        return (null, null);
    }

    // Only short machine-readable tokens survive, so nothing free-form (that could echo a key) gets through.
    private static string? Short(JsonElement error, string name) =>
        error.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String &&
        value.GetString() is { Length: > 0 and <= 64 } text && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? text
            : null;
}
