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
            AtomicFile.Write(_folder.BatchState(state.Id), json);
        }
    }

    public BatchState? Find(string project, string batchId)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(batchId, out var state) && state.Project == project ? state : null;
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

    public (List<BatchState> Page, bool HasMore) List(string project, int limit, string? after)
    {
        var page = new List<BatchState>(limit);
        lock (_gate)
        {
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
                if (state.Project != project) continue;
                if (page.Count == limit) return (page, true);
                page.Add(state);
            }
        }
        return (page, false);
    }
}
