using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BatchAspire.Results.Processing;

/// <summary>The results service's ActivitySource and instruments (ids and statuses only as tags).</summary>
public sealed class ResultsTelemetry
{
    public const string Name = "BatchAspire.Results";
    public static readonly ActivitySource Source = new(Name);

    public ResultsTelemetry(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        JobsFinished = meter.CreateCounter<long>("batchaspire.results.jobs", unit: "{job}", description: "Jobs ended, by status.");
        Requests = meter.CreateCounter<long>("batchaspire.results.requests", unit: "{request}", description: "Requests of ended jobs, by outcome.");
        Retries = meter.CreateCounter<long>("batchaspire.results.retries", unit: "{request}", description: "Requests sent back as a new attempt.");
        CostUsd = meter.CreateCounter<double>("batchaspire.results.cost", unit: "USD", description: "Cost of ended jobs at Batch API prices.");
        SavingsUsd = meter.CreateCounter<double>("batchaspire.results.savings", unit: "USD", description: "Standard price minus Batch price of ended jobs.");
        FinishedRepublished = meter.CreateCounter<long>("batchaspire.results.chunk_finished.republished", unit: "{chunk}",
            description: "ChunkFinished announced again for finished chunks whose results showed no life within Results:RepublishFinishedAfter.");
    }

    public Counter<long> JobsFinished { get; }
    public Counter<long> Requests { get; }
    public Counter<long> Retries { get; }
    public Counter<double> CostUsd { get; }
    public Counter<double> SavingsUsd { get; }
    public Counter<long> FinishedRepublished { get; }
}
