using System.Diagnostics;
using System.Diagnostics.Metrics;
using BatchAspire.Core.Telemetry;

namespace BatchAspire.Intake;

internal static class IntakeTelemetry
{
    public const string Name = "BatchAspire.Intake";   // matched by AddSource("BatchAspire.*") and AddMeter("BatchAspire.*")
    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    // Tenants are bounded by configuration (API keys, quotas), so a tenant label stays a short list.
    private static readonly Counter<long> UploadedBytes = Meter.CreateCounter<long>("batchaspire.upload.size", unit: "By",
        description: "Bytes of files stored by uploads, by tenant.");

    /// <summary>A stored upload: its bytes per tenant, and its time as the <c>upload</c> stage.</summary>
    public static void RecordUpload(string tenant, long bytes, TimeSpan elapsed)
    {
        UploadedBytes.Add(bytes, new KeyValuePair<string, object?>(TelemetryTags.Tenant, tenant));
        JobStages.Record(JobStages.Upload, elapsed);
    }
}
