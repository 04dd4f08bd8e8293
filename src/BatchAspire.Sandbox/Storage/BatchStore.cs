using System.Text.Json;

namespace BatchAspire.Sandbox.Storage;

/// <summary>All batches in memory (loaded at start), each persisted to its own small JSON file.</summary>
public sealed class BatchStore
{
    private readonly DataFolder _folder;
    private readonly Sequence _sequence;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, BatchState> _byId = new(StringComparer.Ordinal);
    private readonly List<BatchState> _ordered = [];

    public BatchStore(DataFolder folder, Sequence sequence, ILogger<BatchStore> logger)
    {
        _folder = folder;
        _sequence = sequence;
        foreach (var path in Directory.EnumerateFiles(folder.Batches, "*.requests.upload"))
        {
            File.Delete(path);   // a message batch whose create call the process died in the middle of
        }
        foreach (var path in Directory.EnumerateFiles(folder.Batches, "*.json"))
        {
            try
            {
                var state = JsonSerializer.Deserialize(File.ReadAllBytes(path), StoreJson.Default.BatchState);
                if (state is null) continue;
                _byId[state.Id] = state;
                _ordered.Add(state);
                sequence.Observe(state.Seq);
                if (state.Status == BatchStatus.Cancelling) state.CancelSignal.Cancel();
            }
            catch (JsonException)
            {
                SandboxLog.UnreadableState(logger, path);
            }
        }
        _ordered.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        foreach (var path in Directory.EnumerateFiles(folder.Batches, "msgbatch_*.jsonl"))
        {
            // Requests or results of a message batch whose create or delete the process died in the middle of.
            var name = Path.GetFileName(path);
            if (!_byId.ContainsKey(name[..name.IndexOf('.')])) File.Delete(path);
        }
    }

    public long NextSeq() => _sequence.Next();

    public void Add(BatchState state)
    {
        Save(state);
        lock (_gate)
        {
            _byId[state.Id] = state;
            _ordered.Add(state);
        }
    }

    /// <summary>Persists the batch; callers may hold its gate or not.</summary>
    public void Save(BatchState state)
    {
        byte[] json;
        lock (state.Gate)
        {
            json = JsonSerializer.SerializeToUtf8Bytes(state, StoreJson.Default.BatchState);
        }
        lock (state.SaveGate)
        {
            if (!state.Deleted) AtomicFile.Write(_folder.BatchState(state.Id), json);
        }
    }

    /// <summary>The project's batch of one API (an OpenAI batch, or a message batch): the other API's ids are unknown to it.</summary>
    public BatchState? Find(string project, string batchId, bool messageBatch = false)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(batchId, out var state) && state.Project == project && state.IsMessageBatch == messageBatch ? state : null;
        }
    }

    public IReadOnlyList<BatchState> Unfinished()
    {
        lock (_gate)
        {
            return _ordered.Where(b => !BatchStatus.IsTerminal(b.Status)).ToList();
        }
    }

    public IReadOnlyList<BatchState> All()
    {
        lock (_gate) return _ordered.ToList();
    }

    /// <summary>
    /// A page of the project's batches of one API (OpenAI batches or message batches), newest first: the ones older
    /// than <paramref name="after"/>, or the ones just newer than <paramref name="before"/>.
    /// </summary>
    public (List<BatchState> Page, bool HasMore) List(string project, int limit, string? after, bool messageBatches = false, string? before = null)
    {
        var page = new List<BatchState>(limit);
        lock (_gate)
        {
            if (before is not null)
            {
                if (!_byId.TryGetValue(before, out var newer)) return (page, false);
                var index = _ordered.BinarySearch(newer, BySeq);
                for (var i = index + 1; i < _ordered.Count; i++)
                {
                    var state = _ordered[i];
                    if (state.Project != project || state.IsMessageBatch != messageBatches) continue;
                    if (page.Count == limit)
                    {
                        page.Reverse();
                        return (page, true);
                    }
                    page.Add(state);
                }
                page.Reverse();
                return (page, false);
            }
            long? afterSeq = null;
            if (after is not null)
            {
                if (!_byId.TryGetValue(after, out var cursor)) return (page, false);
                afterSeq = cursor.Seq;
            }
            for (var i = _ordered.Count - 1; i >= 0; i--)
            {
                var state = _ordered[i];
                if (afterSeq is { } seq && state.Seq >= seq) continue;
                if (state.Project != project || state.IsMessageBatch != messageBatches) continue;
                if (page.Count == limit) return (page, true);
                page.Add(state);
            }
        }
        return (page, false);
    }

    /// <summary>Forgets a batch and deletes its state file; the caller deletes its other files.</summary>
    public bool Remove(BatchState state)
    {
        lock (_gate)
        {
            if (!_byId.Remove(state.Id)) return false;
            _ordered.Remove(state);
        }
        lock (state.SaveGate)
        {
            state.Deleted = true;   // a save still under way must not bring the file back
            File.Delete(_folder.BatchState(state.Id));
        }
        return true;
    }

    private static readonly Comparer<BatchState> BySeq = Comparer<BatchState>.Create((a, b) => a.Seq.CompareTo(b.Seq));
}
