using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using BatchAspire.Core.Providers;
using OpenAI.Batch;
using OpenAI.Files;

namespace BatchAspire.Providers;

/// <summary>
/// The provider calls of the submitter and results, over the official SDK: upload a chunk's input from a stream,
/// create a batch with metadata (protocol method, raw JSON), find a batch by its metadata, cancel a batch, and
/// download a file as a stream. SDK errors become <see cref="ProviderCallException"/> (status and error code only).
/// None of these calls is retried by the transport (POSTs never are); callers decide what a failure means.
/// </summary>
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK: BatchClient and CreateBatchOperation
public sealed class ProviderBatchCommands(BatchClient batches, OpenAIFileClient files)
#pragma warning restore OPENAI001
{
    /// <summary>
    /// POST /files (purpose batch) from <paramref name="content"/>, read as the SDK sends it: a non-seekable stream
    /// goes out chunked, so no whole-chunk buffer is built on either side of the SDK.
    /// </summary>
    public Task<string> UploadAsync(Stream content, string filename, CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("upload file", async options =>
        {
            OpenAIFile file = await files.UploadFileAsync(content, filename, FileUploadPurpose.Batch, options.CancellationToken).ConfigureAwait(false);
            return file.Id;
        }, cancellationToken);

    /// <summary>POST /batches with <paramref name="metadata"/>; never retried here (see the submitter's lookup by metadata).</summary>
    public Task<ProviderBatchSnapshot> CreateBatchAsync(string inputFileId, string endpoint, IReadOnlyDictionary<string, string> metadata,
        CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("create batch", async options =>
        {
            using var body = new MemoryStream();
            using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                json.WriteString("input_file_id", inputFileId);
                json.WriteString("endpoint", endpoint);
                json.WriteString("completion_window", "24h");
                json.WriteStartObject("metadata");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
                json.WriteEndObject();
            }
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
            var operation = await batches.CreateBatchAsync(BinaryContent.Create(new BinaryData(body.ToArray())), waitUntilCompleted: false, options)
                .ConfigureAwait(false);
#pragma warning restore OPENAI001
            return ProviderBatchJson.Parse(operation.GetRawResponse().Content);
        }, cancellationToken);

    /// <summary>
    /// The newest provider batch whose metadata contains every pair of <paramref name="metadata"/>, looking at
    /// batches newest first and stopping at the first one created before <paramref name="createdSince"/> (less a
    /// minute for clock skew) or after <paramref name="maxPages"/> pages. Null when there is none.
    /// </summary>
    public Task<ProviderBatchSnapshot?> FindBatchAsync(IReadOnlyDictionary<string, string> metadata, DateTimeOffset createdSince,
        int maxPages, int pageSize, CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("list batches", async options =>
        {
            var oldest = createdSince.AddMinutes(-1).ToUnixTimeSeconds();
            var pages = 0;
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
            await foreach (var page in batches.GetBatchesAsync(after: null, limit: pageSize, options).GetRawPagesAsync().ConfigureAwait(false))
#pragma warning restore OPENAI001
            {
                using var document = JsonDocument.Parse(page.GetRawResponse().Content.ToMemory());
                if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                    throw new ProviderProtocolException("The provider's batch list has no data array.");
                foreach (var item in data.EnumerateArray())
                {
                    var batch = ProviderBatchJson.Parse(item);
                    if (metadata.All(pair => batch.Metadata.TryGetValue(pair.Key, out var value) && value == pair.Value)) return batch;
                    if (item.TryGetProperty("created_at", out var created) && created.TryGetInt64(out var createdAt) && createdAt < oldest)
                        return null;
                }
                if (++pages >= maxPages) return null;
            }
            return null;
        }, cancellationToken);

    /// <summary>POST /batches/{id}/cancel (through the SDK's operation, which reads the batch first).</summary>
    public Task<ProviderBatchSnapshot> CancelBatchAsync(string providerBatchId, CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("cancel batch", async options =>
        {
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
            var operation = await CreateBatchOperation.RehydrateAsync(batches, providerBatchId, options.CancellationToken).ConfigureAwait(false);
#pragma warning restore OPENAI001
            var result = await operation.CancelAsync(options).ConfigureAwait(false);
            return ProviderBatchJson.Parse(result.GetRawResponse().Content);
        }, cancellationToken);

    /// <summary>GET /files/{id}/content as an unbuffered stream; disposing it releases the response.</summary>
    public Task<Stream> OpenContentAsync(string fileId, CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("download file", async options =>
        {
            options.BufferResponse = false;
            var result = await files.DownloadFileAsync(fileId, options).ConfigureAwait(false);
            var response = result.GetRawResponse();
            return (Stream)new ResponseStream(response.ContentStream ?? Stream.Null, response);
        }, cancellationToken);

    /// <summary>DELETE /files/{id}. A file the provider no longer has (404) counts as deleted.</summary>
    public Task DeleteFileAsync(string fileId, CancellationToken cancellationToken) =>
        ProviderBatches.CallAsync("delete file", async options =>
        {
            try
            {
                await files.DeleteFileAsync(fileId, options.CancellationToken).ConfigureAwait(false);
            }
            catch (ClientResultException exception) when (exception.Status == 404)
            {
            }
            return true;
        }, cancellationToken);

    /// <summary>The content stream of a response that owns it: disposing the stream disposes the response.</summary>
    private sealed class ResponseStream(Stream inner, IDisposable owner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
