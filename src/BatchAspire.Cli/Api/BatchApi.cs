using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using BatchAspire.Cli.Commands;
using OpenAI;
using OpenAI.Batch;
using OpenAI.Files;

#pragma warning disable OPENAI001 // the SDK marks its Batch client experimental

namespace BatchAspire.Cli.Api;

/// <summary>
/// Every call the tool makes, through the official OpenAI .NET SDK, so it works against any OpenAI-compatible Batch API.
/// The SDK's retry policy is the one retry layer, for reads and cancels only: an upload or a create that failed
/// after reaching the server may have acted, and trying again could leave a second file or batch behind.
/// </summary>
public sealed class BatchApi
{
    public const string DefaultBaseUrl = "https://api.openai.com/v1";

    private readonly OpenAIClient _client;
    private readonly OpenAIClient _noRetryClient;

    private BatchApi(Uri baseUrl, string apiKey, int maxRetries)
    {
        BaseUrl = baseUrl;
        _client = Create(baseUrl, apiKey, maxRetries);
        _noRetryClient = Create(baseUrl, apiKey, 0);
    }

    public Uri BaseUrl { get; }

    /// <summary>Resolves the base URL and key from the options, then the environment (OPENAI_BASE_URL, OPENAI_API_KEY).</summary>
    public static BatchApi Connect(ApiSettings settings, CliHost host)
    {
        var apiKey = NonEmpty(settings.ApiKey) ?? NonEmpty(host.Environment("OPENAI_API_KEY"))
            ?? throw new CliException(ExitCodes.Usage, "No API key: set OPENAI_API_KEY or pass --api-key.");
        var baseUrl = NonEmpty(settings.BaseUrl) ?? NonEmpty(host.Environment("OPENAI_BASE_URL")) ?? DefaultBaseUrl;
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"The base URL '{baseUrl}' is not an http(s) URL (for example http://localhost:5180/v1).");
        }
        return new BatchApi(uri, apiKey, settings.MaxRetries);
    }

    public Task<string> UploadAsync(string path, CancellationToken ct) => CallAsync(async () =>
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        OpenAIFile uploaded = await _noRetryClient.GetOpenAIFileClient().UploadFileAsync(file, Path.GetFileName(path), FileUploadPurpose.Batch, ct);
        return uploaded.Id;
    }, ct);

    public Task<RawBatch> CreateAsync(string inputFileId, string endpoint, string window, IReadOnlyDictionary<string, string> metadata, CancellationToken ct) =>
        CallAsync(async () =>
        {
            var body = new Dictionary<string, object>
            {
                ["input_file_id"] = inputFileId,
                ["endpoint"] = endpoint,
                ["completion_window"] = window,
            };
            if (metadata.Count > 0) body["metadata"] = metadata;
            var operation = await _noRetryClient.GetBatchClient().CreateBatchAsync(
                BinaryContent.Create(BinaryData.FromObjectAsJson(body)), waitUntilCompleted: false, Options(ct));
            return RawBatch.From(operation.GetRawResponse().Content);
        }, ct);

    public Task<RawBatch> GetAsync(string batchId, CancellationToken ct) => CallAsync(async () =>
    {
        var result = await _client.GetBatchClient().GetBatchAsync(batchId, Options(ct));
        return RawBatch.From(result.GetRawResponse().Content);
    }, ct);

    /// <summary>One page of the batch list (newest first), as the server sent it.</summary>
    public Task<BinaryData> ListAsync(string? after, int? limit, CancellationToken ct) => CallAsync(async () =>
    {
        await foreach (var page in _client.GetBatchClient().GetBatchesAsync(after, limit, Options(ct)).GetRawPagesAsync())
        {
            return page.GetRawResponse().Content;
        }
        throw new CliException(ExitCodes.ApiError, "The server sent no page of batches.");
    }, ct);

    public Task<RawBatch> CancelAsync(string batchId, CancellationToken ct) => CallAsync(async () =>
    {
        var operation = await CreateBatchOperation.RehydrateAsync(_client.GetBatchClient(), batchId, ct);
        var result = await operation.CancelAsync(Options(ct));
        return RawBatch.From(result.GetRawResponse().Content);
    }, ct);

    /// <summary>
    /// Streams a file's content to <paramref name="path"/> (through a temporary name beside it, so a broken download
    /// never looks complete) without holding it in memory; returns its length.
    /// </summary>
    public Task<long> DownloadAsync(string fileId, string path, CancellationToken ct) => CallAsync(async () =>
    {
        var options = Options(ct);
        options.BufferResponse = false;
        var result = await _client.GetOpenAIFileClient().DownloadFileAsync(fileId, options);
        using var response = result.GetRawResponse();
        var partial = path + ".partial";
        try
        {
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await using var content = response.ContentStream ?? Stream.Null;
                await content.CopyToAsync(file, 1 << 16, ct);
            }
            File.Move(partial, path, overwrite: true);
            return new FileInfo(path).Length;
        }
        finally
        {
            File.Delete(partial);
        }
    }, ct);

    private async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is ClientResultException or HttpRequestException or System.Net.Sockets.SocketException
                                      || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            throw ApiErrors.Translate(e, BaseUrl, ct);
        }
        catch (JsonException e)
        {
            // A 200 that is not JSON: usually a base URL that points at some other web server.
            throw new CliException(ExitCodes.ApiError, $"The server at {BaseUrl} did not answer with OpenAI JSON ({e.Message}). Is the base URL right?");
        }
    }

    private static RequestOptions Options(CancellationToken ct) => new() { CancellationToken = ct };

    private static OpenAIClient Create(Uri baseUrl, string apiKey, int maxRetries) =>
        new(new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = baseUrl,
            RetryPolicy = new ClientRetryPolicy(maxRetries),
            UserAgentApplicationId = "batchaspire-cli",
        });

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>A batch object as the server sent it (for --json) and as the tool reads it.</summary>
public sealed record RawBatch(string Json, BatchView View)
{
    public static RawBatch From(BinaryData content)
    {
        using var json = JsonDocument.Parse(content);
        return new RawBatch(content.ToString(), BatchView.Read(json.RootElement));
    }
}
