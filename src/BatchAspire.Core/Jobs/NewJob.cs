namespace BatchAspire.Core.Jobs;

/// <summary>
/// A job as the intake creates it: what the create request and its input file say. <see cref="IJobStore"/> turns it
/// into the job hash (<see cref="JobFields"/>), so no caller builds that field list itself.
/// </summary>
/// <param name="Requests">Lines of the input file: the job's <c>request_total</c> once accepted.</param>
public sealed record NewJob(
    string JobId, string Tenant, string Endpoint, string InputFileId, string CompletionWindow, long CreatedAt, long ExpiresAt, long Requests)
{
    /// <summary>The model every line names, when they all name one.</summary>
    public string? Model { get; init; }

    /// <summary>The request's metadata as JSON object text; null when it had none.</summary>
    public string? MetadataJson { get; init; }

    public long? OutputExpiresAfterSeconds { get; init; }

    /// <summary>The create request's trace, which the pipeline continues (workers have no request to carry it).</summary>
    public string? TraceParent { get; init; }
}
