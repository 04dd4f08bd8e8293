namespace BatchAspire.Core.Chunks;

/// <summary>A planned chunk: lines [<see cref="First"/>, <see cref="First"/> + <see cref="Count"/>) of the input file.</summary>
public readonly record struct PlannedChunk(long First, long Count, long Bytes);

/// <summary>One input line as the planner weighs it: its length without '\n', and its embedding inputs (0 when not counted).</summary>
public readonly record struct PlannedLine(int Length, int Inputs);

/// <summary>
/// Splits a job's input file into chunks of at most <c>maxLines</c> lines and <c>maxBytes</c> bytes (each line
/// counted with its '\n', as the provider sees the uploaded file), reading only the file's line lengths, and for
/// embeddings at most <c>maxInputs</c> inputs. A single line over a cap gets a chunk of its own: it cannot be split,
/// and the provider answers for it.
/// </summary>
public static class ChunkPlanner
{
    public static Task<IReadOnlyList<PlannedChunk>> PlanAsync(IAsyncEnumerable<int> lineLengths, int maxLines, long maxBytes, CancellationToken ct = default) =>
        PlanAsync(lineLengths.Select(length => new PlannedLine(length, 0)), maxLines, maxBytes, long.MaxValue, ct);

    public static async Task<IReadOnlyList<PlannedChunk>> PlanAsync(IAsyncEnumerable<PlannedLine> lines, int maxLines, long maxBytes, long maxInputs,
        CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInputs, 1);
        var chunks = new List<PlannedChunk>();
        long first = 0, count = 0, bytes = 0, inputs = 0;
        await foreach (var line in lines.WithCancellation(ct))
        {
            var lineBytes = (long)line.Length + 1;
            if (count > 0 && (count == maxLines || bytes + lineBytes > maxBytes || inputs + line.Inputs > maxInputs))
            {
                chunks.Add(new PlannedChunk(first, count, bytes));
                first += count;
                count = 0;
                bytes = 0;
                inputs = 0;
            }
            count++;
            bytes += lineBytes;
            inputs += line.Inputs;
        }
        if (count > 0) chunks.Add(new PlannedChunk(first, count, bytes));
        return chunks;
    }

    /// <summary>
    /// Pairs the line index's lengths with the inputs counted in the lines themselves (the index holds no inputs; only
    /// embedding jobs pay this one streaming read of their input).
    /// </summary>
    public static async IAsyncEnumerable<PlannedLine> WithEmbeddingInputs(IAsyncEnumerable<int> lineLengths, IAsyncEnumerable<ReadOnlyMemory<byte>> lines,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var content = lines.GetAsyncEnumerator(ct);
        await foreach (var length in lineLengths.WithCancellation(ct))
        {
            if (!await content.MoveNextAsync()) throw new InvalidDataException("The input file has fewer lines than its line index.");
            yield return new PlannedLine(length, EmbeddingInputs.Count(content.Current.Span));
        }
    }
}
