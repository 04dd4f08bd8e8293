using System.Globalization;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;
using BatchAspire.Results.Pricing;
using BatchAspire.Core.Results;
using BatchAspire.Core.Telemetry;
using MassTransit;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Ends a job once its state says it is over — derived from what is stored, never from a counter a redelivery could
/// double (the job's chunk counters change in the script that stores a chunk's outcome, once per chunk, so reading
/// them costs one read where walking every chunk on every message cost O(chunks²) per job):
/// <c>completed</c> when every chunk has its outcome stored and no request waits in a retry chunk (so every
/// request has its final result; assembly checks it line by line); <c>cancelled</c> or <c>expired</c> when every chunk
/// is done (or, for an expiry, when its grace is over). Stages the output and error files in input order, then creates
/// them and commits the job in one conditional script: if two writers race, one commit wins and the other's staged
/// parts are deleted.
/// </summary>
public sealed class JobFinalizer(
    IJobStore jobs,
    IFileStore files,
    ChunkStore chunks,
    ResultStore results,
    JobAssembler assembler,
    PriceTable prices,
    TimeProvider time,
    ResultsTelemetry telemetry,
    ILogger<JobFinalizer> logger)
{
    /// <summary>Ends the job if it is ready. <paramref name="force"/>: an expiring job whose grace is over ends with what it has.</summary>
    public async Task<bool> TryFinalizeAsync(string jobId, bool force, CancellationToken ct)
    {
        var job = await jobs.GetAsync(jobId, ct);
        if (job is null || JobStatus.IsTerminal(job.Status)) return false;
        var total = job.GetInt64(JobFields.RequestTotal) ?? 0;
        var (status, unansweredCode) = job.Status == JobStatus.Cancelling ? (JobStatus.Cancelled, (string?)ResultLine.BatchCancelled)
            : job[JobFields.ExpiringAt] is not null ? (JobStatus.Expired, ResultLine.BatchExpired)
            : (JobStatus.Completed, null);
        // Every chunk's outcome stored means every request has its final result (a request still to be retried sits
        // in a successor chunk that is not done yet); for a cancel or expiry the requests left are answered as such.
        var ready = status == JobStatus.Completed
            ? total > 0 && await chunks.AllResultsDoneAsync(jobId)
            : force || await chunks.AllResultsDoneAsync(jobId);
        if (!ready) return false;

        using var activity = ResultsTelemetry.Source.StartActivity("assemble job");
        using var stage = JobStages.Time(JobStages.Assemble);
        activity?.SetTag(TelemetryTags.JobId, jobId);
        activity?.SetTag(TelemetryTags.Outcome, status);
        if (status == JobStatus.Completed) await results.BeginFinalizingAsync(jobId);

        var expiresAfter = job.GetInt64(JobFields.OutputExpiresAfterSeconds) ?? FileLayout.DefaultExpirySeconds;
        var usage = await results.SumUsageAsync(jobId);
        var model = job[JobFields.Model] ?? await ModelOfInputAsync(job, ct);
        var cost = prices.Compute(model, usage);
        IReadOnlyList<ProviderLedgerEntry>? ledger = null;
        // A routed model's requests may have run at several providers: each share at its provider's prices, the job the sum.
        if (prices.IsRouted(model) && await chunks.ReadLedgerAsync(jobId) is { Count: > 0 } shares)
            (ledger, cost) = prices.Compute(model, shares);
        if (cost is null) logger.NoPrice(jobId);
        CommitOutcome commit;
        AssembledFile output, errors;
        try
        {
            await using var assembled = await assembler.PrepareAsync(new AssemblyRequest(jobId, job.Tenant, total, job[JobFields.InputFileId]!,
                time.GetUtcNow().ToUnixTimeSeconds() + expiresAfter, unansweredCode), ct);
            commit = await results.CommitAsync(jobId, new JobCompletion(status, usage, cost, ledger), assembled);
            (output, errors) = (assembled.Output, assembled.Errors);
        }
        catch (AssemblyRaceException)
        {
            // A run vanished: another finalizer committed the job while this one assembled it (anything else is a fault).
            if (await jobs.GetAsync(jobId, ct) is not { } ended || !JobStatus.IsTerminal(ended.Status)) throw;
            logger.LostFinalize(jobId, ended.Status);
            return false;
        }
        if (!commit.Won)
        {
            logger.LostFinalize(jobId, commit.Status ?? "");
            return false;
        }
        activity?.SetTag("batchaspire.lines_moved", output.MovedLines + errors.MovedLines);

        var statusTag = new KeyValuePair<string, object?>("status", status);
        telemetry.JobsFinished.Add(1, statusTag);
        telemetry.Requests.Add(output.Lines, new KeyValuePair<string, object?>("outcome", "succeeded"));
        telemetry.Requests.Add(errors.Lines, new KeyValuePair<string, object?>("outcome", "failed"));
        if (cost is { } c)
        {
            telemetry.CostUsd.Add(c.BatchUsd, statusTag);
            telemetry.SavingsUsd.Add(c.SavingsUsd, statusTag);
            activity?.SetTag("batchaspire.cost_usd", c.BatchUsd.ToString("0.######", CultureInfo.InvariantCulture));
        }
        logger.JobEnded(jobId, status, output.Lines, errors.Lines);
        return true;
    }

    private async Task<string?> ModelOfInputAsync(JobRecord job, CancellationToken ct) =>
        job[JobFields.InputFileId] is { } fileId && await files.GetAnalysisAsync(fileId, ct) is { Models.Count: > 0 } analysis
            ? analysis.Models[0].Value
            : null;
}
