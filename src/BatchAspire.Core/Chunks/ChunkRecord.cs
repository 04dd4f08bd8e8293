using System.Globalization;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Chunks;

/// <summary>A chunk hash as read from Redis (fields in <see cref="ChunkFields"/> and <see cref="ChunkPollFields"/>).</summary>
public sealed class ChunkRecord
{
    private readonly Dictionary<string, string> _fields;

    private ChunkRecord(string id, Dictionary<string, string> fields)
    {
        Id = id;
        _fields = fields;
    }

    public string Id { get; }

    public string JobId => ChunkIds.JobOf(Id);

    public string? this[string field] => _fields.GetValueOrDefault(field);

    public bool IsList => this[ChunkFields.Kind] == ChunkKinds.List;

    public long First => GetInt64(ChunkFields.First) ?? 0;

    public long Count => GetInt64(ChunkFields.Count) ?? 0;

    public int Attempt => (int)(GetInt64(ChunkFields.Attempt) ?? 1);

    public string? ProviderBatchId => this[ChunkPollFields.ProviderBatchId];

    public string? ProviderFileId => this[ChunkFields.ProviderFileId];

    public string? Status => this[ChunkPollFields.Status];

    /// <summary>The routed provider the chunk's batch went to; null: the default provider.</summary>
    public string? Provider => this[ChunkFields.Provider];

    /// <summary>Which try at its provider the chunk is: recorded on a routed retry chunk, else its attempt.</summary>
    public int ProviderTry => (int)(GetInt64(ChunkFields.ProviderTry) ?? Attempt);

    public bool IsClosed => this[ChunkFields.Closed] is not null;

    public bool ResultsDone => this[ChunkFields.ResultsDone] is not null;

    public long? CreateStartedAtMs => GetInt64(ChunkFields.CreateStartedAtMs);

    public long? GetInt64(string field) =>
        long.TryParse(this[field], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;

    internal static ChunkRecord? From(string chunkId, HashEntry[] entries) =>
        entries.Length == 0 ? null : new ChunkRecord(chunkId, entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!));
}
