namespace BatchAspire.Core.Chunks;

/// <summary>Which provider each request of a job went to last (<see cref="ChunkStore.ReadLineProvidersAsync"/>).</summary>
public sealed class LineProviders(IReadOnlyList<string> providers, byte[] byLine)
{
    /// <summary>The providers in the order the job's chunks first named them.</summary>
    public IReadOnlyList<string> Providers { get; } = providers;

    public long Count => byLine.LongLength;

    /// <summary>The provider of request <paramref name="line"/> (0-based input line), or null if no chunk carried it.</summary>
    public string? this[long line] => byLine[line] == 0 ? null : Providers[byLine[line] - 1];
}
