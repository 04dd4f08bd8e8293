using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Storage;

/// <summary>The on-disk layout: <c>files/{id}.json</c> + <c>files/{id}.data</c>, <c>batches/{id}.json</c> + work files.</summary>
public sealed class DataFolder : IDisposable
{
    private readonly FileStream _lock;

    public DataFolder(IOptions<SandboxOptions> options)
    {
        Root = options.Value.ResolveDataDirectory();
        Files = Path.Combine(Root, "files");
        Batches = Path.Combine(Root, "batches");
        Directory.CreateDirectory(Files);
        Directory.CreateDirectory(Batches);
        try
        {
            // Two processes resuming the same batches would write the same result files.
            _lock = new FileStream(Path.Combine(Root, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException(
                $"The data folder {Root} is in use by another Sandbox; give each Sandbox its own Sandbox:DataDirectory.", e);
        }
    }

    public void Dispose() => _lock.Dispose();

    public string Root { get; }
    public string Files { get; }
    public string Batches { get; }

    public string FileMeta(string fileId) => Path.Combine(Files, fileId + ".json");
    public string FileData(string fileId) => Path.Combine(Files, fileId + ".data");
    public string FileUpload(string fileId) => Path.Combine(Files, fileId + ".upload");
    public string BatchState(string batchId) => Path.Combine(Batches, batchId + ".json");
    public string BatchOutputPart(string batchId) => Path.Combine(Batches, batchId + ".output.part");
    public string BatchErrorPart(string batchId) => Path.Combine(Batches, batchId + ".error.part");

    /// <summary>A message batch's requests, one per line, as its create call sent them.</summary>
    public string MessageBatchInput(string batchId) => Path.Combine(Batches, batchId + ".requests.jsonl");
    public string MessageBatchInputUpload(string batchId) => Path.Combine(Batches, batchId + ".requests.upload");

    /// <summary>An ended message batch's results: succeeded ones, then the others.</summary>
    public string MessageBatchResults(string batchId, int part) => Path.Combine(Batches, $"{batchId}.results.{part}.jsonl");
}
