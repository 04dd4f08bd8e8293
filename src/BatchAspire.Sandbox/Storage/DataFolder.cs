using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Storage;

/// <summary>The on-disk layout: <c>files/{id}.json</c> + <c>files/{id}.data</c>, <c>batches/{id}.json</c> + work files.</summary>
public sealed class DataFolder
{
    public DataFolder(IOptions<SandboxOptions> options)
    {
        Root = options.Value.ResolveDataDirectory();
        Files = Path.Combine(Root, "files");
        Batches = Path.Combine(Root, "batches");
        Directory.CreateDirectory(Files);
        Directory.CreateDirectory(Batches);
    }

    public string Root { get; }
    public string Files { get; }
    public string Batches { get; }

    public string FileMeta(string fileId) => Path.Combine(Files, fileId + ".json");
    public string FileData(string fileId) => Path.Combine(Files, fileId + ".data");
    public string FileUpload(string fileId) => Path.Combine(Files, fileId + ".upload");
    public string BatchState(string batchId) => Path.Combine(Batches, batchId + ".json");
    public string BatchOutputPart(string batchId) => Path.Combine(Batches, batchId + ".output.part");
    public string BatchErrorPart(string batchId) => Path.Combine(Batches, batchId + ".error.part");
}
