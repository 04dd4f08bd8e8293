using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace BatchAspire.Core.Telemetry;

/// <summary>
/// The stages of a job, as the stage-duration histogram labels them: one histogram for every service, so the dashboard
/// shows where a job's time goes (a label per stage; a job id is never a label).
/// </summary>
public static class JobStages
{
    public const string MeterName = "BatchAspire.Stages";   // matched by ServiceDefaults' AddMeter("BatchAspire.*")
    public const string StageTag = "batchaspire.stage";

    public const string Upload = "upload";
    public const string Validate = "validate";
    public const string Plan = "plan";
    public const string SubmitChunk = "submit_chunk";
    public const string ProviderRunning = "provider_running";
    public const string ChunkResults = "chunk_results";
    public const string Assemble = "assemble";

    private static readonly Meter Meter = new(MeterName);

    // Stages last from milliseconds (validate) to hours (a provider batch): buckets that resolve both ends.
    private static readonly Histogram<double> Duration = Meter.CreateHistogram("batchaspire.stage.duration", unit: "s",
        description: "Time a job spends in one stage (per chunk for submit, provider running and chunk results).",
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400],
        });

    public static void Record(string stage, TimeSpan elapsed) =>
        Duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(StageTag, stage));

    /// <summary>Times a stage from now until the returned value is disposed.</summary>
    public static StageTimer Time(string stage) => new(stage, Stopwatch.GetTimestamp());

    public readonly struct StageTimer(string stage, long started) : IDisposable
    {
        public void Dispose() => Record(stage, Stopwatch.GetElapsedTime(started));
    }
}
