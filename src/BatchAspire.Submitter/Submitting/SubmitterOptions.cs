using System.ComponentModel.DataAnnotations;

namespace BatchAspire.Submitter.Submitting;

/// <summary>Submitter settings (section <c>Submitter</c>); the chunk limits default to the provider's Batch API limits.</summary>
public sealed class SubmitterOptions
{
    public const string SectionName = "Submitter";

    /// <summary>Most lines in one provider batch (the Batch API allows 50,000).</summary>
    [Range(1, 50_000)]
    public int MaxLinesPerChunk { get; set; } = 50_000;

    /// <summary>Most bytes in one chunk's input file, each line counted with its '\n' (the Batch API allows 200 MB).</summary>
    [Range(2, 200L * 1024 * 1024)]
    public long MaxBytesPerChunk { get; set; } = 200L * 1024 * 1024;

    /// <summary>
    /// Most embedding inputs in one chunk of a <c>/v1/embeddings</c> job (the Batch API allows 50,000 across all
    /// requests of a batch, and a request may carry up to 2,048): past it the provider fails the whole batch.
    /// </summary>
    [Range(1, BatchAspire.Core.Chunks.EmbeddingInputs.BatchApiCap)]
    public int MaxEmbeddingInputsPerChunk { get; set; } = BatchAspire.Core.Chunks.EmbeddingInputs.BatchApiCap;

    /// <summary>How long one submitter owns a chunk without renewing (renewed every third of it while working).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SubmitLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Wait after the first refusal (429 on create or upload); doubles per refusal in a row.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan RefusalDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cap of the growing refusal wait.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxRefusalDelay { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How soon the poller first looks at a new provider batch.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan FirstPollDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the delayed-chunk sweeper looks for chunks that are due.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a delayed chunk stays hidden once the sweeper has sent it (then it is due again unless handled).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SweepLease { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Pages of the provider's batch list read when looking a batch up by its metadata.</summary>
    [Range(1, 100)]
    public int LookupMaxPages { get; set; } = 5;

    [Range(1, 100)]
    public int LookupPageSize { get; set; } = 100;

    /// <summary>
    /// Chunks one replica uploads and creates at once. Each streams from the blob store with fixed buffers, so memory
    /// stays flat; the provider's upload and create latency, not CPU, is what more of them hide.
    /// </summary>
    [Range(1, 64)]
    public int ConcurrentSubmissions { get; set; } = 4;
}
