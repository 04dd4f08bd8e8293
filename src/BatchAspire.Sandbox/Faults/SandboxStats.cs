using System.Collections.Concurrent;
using System.Text.Json;

namespace BatchAspire.Sandbox.Faults;

/// <summary>Counters for tests that watch the Sandbox from outside (kept in memory; reset on restart).</summary>
public sealed class SandboxStats
{
    private long _filesCreated;
    private long _batchesCreated;
    private long _apiFaults429;
    private long _apiFaults500;
    private long _linesExecuted;
    private readonly ConcurrentDictionary<string, long> _batchGets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _batchCancels = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _fileDownloads = new(StringComparer.Ordinal);

    public void FileCreated() => Interlocked.Increment(ref _filesCreated);
    public void BatchCreated() => Interlocked.Increment(ref _batchesCreated);
    public void BatchGet(string batchId) => _batchGets.AddOrUpdate(batchId, 1, (_, n) => n + 1);
    public void BatchCancel(string batchId) => _batchCancels.AddOrUpdate(batchId, 1, (_, n) => n + 1);
    public void FileDownload(string fileId) => _fileDownloads.AddOrUpdate(fileId, 1, (_, n) => n + 1);
    public void ApiFault(int status) => Interlocked.Increment(ref status == 429 ? ref _apiFaults429 : ref _apiFaults500);
    public void LinesExecuted(long count) => Interlocked.Add(ref _linesExecuted, count);

    public void Reset()
    {
        Interlocked.Exchange(ref _filesCreated, 0);
        Interlocked.Exchange(ref _batchesCreated, 0);
        Interlocked.Exchange(ref _apiFaults429, 0);
        Interlocked.Exchange(ref _apiFaults500, 0);
        Interlocked.Exchange(ref _linesExecuted, 0);
        _batchGets.Clear();
        _batchCancels.Clear();
        _fileDownloads.Clear();
    }

    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("files_created", Interlocked.Read(ref _filesCreated));
        writer.WriteNumber("batches_created", Interlocked.Read(ref _batchesCreated));
        writer.WriteNumber("lines_executed", Interlocked.Read(ref _linesExecuted));
        writer.WriteStartObject("api_faults");
        writer.WriteNumber("429", Interlocked.Read(ref _apiFaults429));
        writer.WriteNumber("500", Interlocked.Read(ref _apiFaults500));
        writer.WriteEndObject();
        WriteMap(writer, "batch_gets", _batchGets);
        WriteMap(writer, "batch_cancels", _batchCancels);
        WriteMap(writer, "file_downloads", _fileDownloads);
        writer.WriteEndObject();
    }

    private static void WriteMap(Utf8JsonWriter writer, string name, ConcurrentDictionary<string, long> map)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal)) writer.WriteNumber(key, value);
        writer.WriteEndObject();
    }
}
