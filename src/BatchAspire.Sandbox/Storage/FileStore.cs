using System.Text.Json;

namespace BatchAspire.Sandbox.Storage;

/// <summary>
/// File metadata is indexed in memory (loaded from disk at start); content stays on disk and is
/// only ever streamed. Each project (bearer token) sees only its own files.
/// </summary>
public sealed class FileStore
{
    private readonly DataFolder _folder;
    private readonly Sequence _sequence;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FileRecord> _byId = new(StringComparer.Ordinal);
    private readonly List<FileRecord> _ordered = [];   // ascending seq

    public FileStore(DataFolder folder, Sequence sequence, TimeProvider time, ILogger<FileStore> logger)
    {
        _folder = folder;
        _sequence = sequence;
        _time = time;
        foreach (var path in Directory.EnumerateFiles(folder.Files, "*.upload"))
        {
            File.Delete(path);   // an upload the process died in the middle of
        }
        foreach (var path in Directory.EnumerateFiles(folder.Files, "*.json"))
        {
            try
            {
                var record = JsonSerializer.Deserialize(File.ReadAllBytes(path), StoreJson.Default.FileRecord);
                if (record is not null && File.Exists(folder.FileData(record.Id)))
                {
                    _byId[record.Id] = record;
                    _ordered.Add(record);
                    sequence.Observe(record.Seq);
                }
            }
            catch (JsonException)
            {
                SandboxLog.UnreadableState(logger, path);
            }
        }
        _ordered.Sort((a, b) => a.Seq.CompareTo(b.Seq));
    }

    public long NextSeq() => _sequence.Next();

    /// <summary>Moves a fully written content file into place and makes the record visible.</summary>
    public void Add(FileRecord record, string contentPath)
    {
        // Metadata first: a crash before the move leaves metadata without data, which loading skips,
        // and the content is still where the caller can publish it again (a batch's finalize step).
        AtomicFile.Write(_folder.FileMeta(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, StoreJson.Default.FileRecord));
        File.Move(contentPath, _folder.FileData(record.Id), overwrite: true);
        lock (_gate)
        {
            _byId[record.Id] = record;
            var index = _ordered.Count;
            while (index > 0 && _ordered[index - 1].Seq > record.Seq) index--;
            _ordered.Insert(index, record);
        }
    }

    public bool Exists(string fileId)
    {
        lock (_gate) return _byId.ContainsKey(fileId);
    }

    public FileRecord? Find(string project, string fileId)
    {
        FileRecord? record;
        lock (_gate)
        {
            if (!_byId.TryGetValue(fileId, out record) || record.Project != project) return null;
        }
        if (record.ExpiresAt is { } expiresAt && expiresAt <= _time.GetUtcNow().ToUnixTimeSeconds())
        {
            Delete(record.Id);
            return null;
        }
        return record;
    }

    public string ContentPath(string fileId) => _folder.FileData(fileId);

    public bool Delete(string fileId)
    {
        lock (_gate)
        {
            if (!_byId.Remove(fileId, out var record)) return false;
            _ordered.Remove(record);
        }
        File.Delete(_folder.FileMeta(fileId));
        File.Delete(_folder.FileData(fileId));   // a batch still reading it keeps its open handle
        return true;
    }

    public (List<FileRecord> Page, bool HasMore) List(string project, string? purpose, int limit, bool descending, string? after)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var page = new List<FileRecord>(Math.Min(limit, 1024));
        lock (_gate)
        {
            long? afterSeq = null;
            if (after is not null)
            {
                if (!_byId.TryGetValue(after, out var cursor)) return (page, false);
                afterSeq = cursor.Seq;
            }
            var count = _ordered.Count;
            for (var i = 0; i < count; i++)
            {
                var record = _ordered[descending ? count - 1 - i : i];
                if (afterSeq is { } seq && (descending ? record.Seq >= seq : record.Seq <= seq)) continue;
                if (record.Project != project || (purpose is not null && record.Purpose != purpose)) continue;
                if (record.ExpiresAt is { } expiresAt && expiresAt <= now) continue;
                if (page.Count == limit) return (page, true);
                page.Add(record);
            }
        }
        return (page, false);
    }
}
