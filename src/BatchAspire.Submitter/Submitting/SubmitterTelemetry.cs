using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BatchAspire.Submitter.Submitting;

/// <summary>The submitter's ActivitySource and instruments (ids and outcomes only as tags).</summary>
public sealed class SubmitterTelemetry
{
    public const string Name = "BatchAspire.Submitter";
    public static readonly ActivitySource Source = new(Name);

    public SubmitterTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        ChunksPlanned = meter.CreateCounter<long>("batchaspire.submitter.chunks_planned", unit: "{chunk}");
        Submissions = meter.CreateCounter<long>("batchaspire.submitter.submissions", unit: "{chunk}",
            description: "Chunk submissions by outcome: created, recovered (found by metadata), refused, failed, closed.");
        UploadedBytes = meter.CreateCounter<long>("batchaspire.submitter.uploaded", unit: "By");
    }

    public Counter<long> ChunksPlanned { get; }
    public Counter<long> Submissions { get; }
    public Counter<long> UploadedBytes { get; }

    public void RecordSubmission(string outcome) => Submissions.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
