namespace BatchAspire.Core.Chunks;

/// <summary>A planned chunk: lines [<see cref="First"/>, <see cref="First"/> + <see cref="Count"/>) of the input file.</summary>
public readonly record struct PlannedChunk(long First, long Count, long Bytes);

/// <summary>
/// Splits a job's input file into chunks of at most <c>maxLines</c> lines and <c>maxBytes</c> bytes (each line
/// counted with its '\n', as the provider sees the uploaded file), reading only the file's line lengths.
/// A single line longer than <c>maxBytes</c> gets a chunk of its own: it cannot be split, and the provider
/// answers for it.
/// </summary>
public static class ChunkPlanner
{
    public static async Task<IReadOnlyList<PlannedChunk>> PlanAsync(IAsyncEnumerable<int> lineLengths, int maxLines, long maxBytes, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLines, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 2);
        var chunks = new List<PlannedChunk>();
        long first = 0, count = 0, bytes = 0;
        await foreach (var length in lineLengths.WithCancellation(ct))
        {
            var lineBytes = (long)length + 1;
            if (count > 0 && (count == maxLines || bytes + lineBytes > maxBytes))
            {
                chunks.Add(new PlannedChunk(first, count, bytes));
                first += count;
                count = 0;
                bytes = 0;
            }
            count++;
            bytes += lineBytes;
        }
        if (count > 0) chunks.Add(new PlannedChunk(first, count, bytes));
        return chunks;
    }
}
