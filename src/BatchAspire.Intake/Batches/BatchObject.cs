using System.Text.Json;
using System.Text.Json.Serialization;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Pricing;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// The Batch object (docs/openai/batches.md §3) rendered from the job hash alone. Every key is written, with null
/// where unset; <c>cost</c>, <c>chunks</c> and <c>partial_output</c> are BatchAspire's own additions (the SDKs
/// ignore unknown keys): cost appears only once the job has cost figures, chunks once it is planned.
/// </summary>
public sealed class BatchObject
{
    public required string Id { get; init; }
    public string Object => "batch";
    public required string Endpoint { get; init; }
    public required string? Model { get; init; }
    public required BatchErrors? Errors { get; init; }
    public required string InputFileId { get; init; }
    public required string CompletionWindow { get; init; }
    public required string Status { get; init; }
    public required string? OutputFileId { get; init; }
    public required string? ErrorFileId { get; init; }
    public required long CreatedAt { get; init; }
    public required long? InProgressAt { get; init; }
    public required long? ExpiresAt { get; init; }
    public required long? FinalizingAt { get; init; }
    public required long? CompletedAt { get; init; }
    public required long? FailedAt { get; init; }
    public required long? ExpiredAt { get; init; }
    public required long? CancellingAt { get; init; }
    public required long? CancelledAt { get; init; }
    public required BatchRequestCounts RequestCounts { get; init; }
    public required BatchUsage Usage { get; init; }
    public required Dictionary<string, string>? Metadata { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BatchCost? Cost { get; init; }

    /// <summary>
    /// BatchAspire's extension (docs/intake.md, "The batch object"): how many chunks (provider batches, retries
    /// included) the job has, how many have their results stored, how many are still open. Absent until the job is
    /// planned; the SDKs ignore it.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BatchChunks? Chunks { get; init; }

    /// <summary>BatchAspire's extension (docs/webhooks.md, "Partial results"); the SDKs ignore it.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BatchPartialOutput? PartialOutput { get; init; }

    public static BatchObject From(JobRecord job, BatchPartialOutput? partialOutput = null)
    {
        var status = job.Status;
        var input = job.GetInt64(JobFields.InputTokens) ?? 0;
        var output = job.GetInt64(JobFields.OutputTokens) ?? 0;
        var batchUsd = job.GetDouble(JobFields.CostBatchUsd);
        var standardUsd = job.GetDouble(JobFields.CostStandardUsd);
        var errors = FileAnalysis.ReadErrors(job[JobFields.Errors]);
        return new BatchObject
        {
            Id = job.Id,
            Endpoint = job[JobFields.Endpoint] ?? "",
            Model = job[JobFields.Model],
            Errors = errors.Count == 0 ? null : new BatchErrors
            {
                Data = [.. errors.Select(e => new BatchError { Code = e.Code, Message = e.Message, Param = e.Param, Line = e.Line })],
            },
            InputFileId = job[JobFields.InputFileId] ?? "",
            CompletionWindow = job[JobFields.CompletionWindow] ?? "24h",
            Status = status,
            OutputFileId = job[JobFields.OutputFileId],
            ErrorFileId = job[JobFields.ErrorFileId],
            CreatedAt = job.GetInt64(JobFields.CreatedAt) ?? 0,
            InProgressAt = job.GetInt64(JobFields.InProgressAt),
            ExpiresAt = job.GetInt64(JobFields.ExpiresAt),
            FinalizingAt = job.GetInt64(JobFields.FinalizingAt),
            CompletedAt = job.GetInt64(JobFields.CompletedAt),
            FailedAt = job.GetInt64(JobFields.FailedAt),
            ExpiredAt = job.GetInt64(JobFields.ExpiredAt),
            CancellingAt = job.GetInt64(JobFields.CancellingAt),
            CancelledAt = job.GetInt64(JobFields.CancelledAt),
            RequestCounts = new BatchRequestCounts
            {
                // The hash knows the line count from the start; the API shows {0,0,0} while validating (docs/openai/batches.md §3).
                Total = status == JobStatus.Validating ? 0 : job.GetInt64(JobFields.RequestTotal) ?? 0,
                Completed = job.GetInt64(JobFields.RequestCompleted) ?? 0,
                Failed = job.GetInt64(JobFields.RequestFailed) ?? 0,
            },
            Usage = new BatchUsage
            {
                InputTokens = input,
                InputTokensDetails = new BatchUsage.InputDetails { CachedTokens = job.GetInt64(JobFields.CachedTokens) ?? 0 },
                OutputTokens = output,
                OutputTokensDetails = new BatchUsage.OutputDetails { ReasoningTokens = job.GetInt64(JobFields.ReasoningTokens) ?? 0 },
                TotalTokens = input + output,
            },
            Metadata = job[JobFields.Metadata] is { Length: > 0 } metadata
                ? JsonSerializer.Deserialize(metadata, IntakeJson.Default.DictionaryStringString)
                : null,
            Cost = batchUsd is null && standardUsd is null ? null : new BatchCost
            {
                BatchUsd = batchUsd ?? 0,
                StandardUsd = standardUsd ?? 0,
                // Not rounded: a small job saves fractions of a micro-dollar, and rounding would erase them.
                SavingsUsd = (standardUsd ?? 0) - (batchUsd ?? 0),
                Providers = ProviderLedger.Parse(job[JobFields.CostProviders]) is { Count: > 0 } ledger
                    ? [.. ledger.Select(BatchProviderCost.From)]
                    : null,
            },
            PartialOutput = partialOutput,
            Chunks = job.Chunks is { } chunks ? new BatchChunks
            {
                Total = chunks.Total,
                Done = chunks.Done,
                // An ended job waits for nothing: a chunk closed without results (cancelled before it was submitted)
                // is then neither done nor open.
                Open = JobStatus.IsTerminal(status) ? 0 : chunks.Open,
            } : null,
        };
    }
}

/// <summary>How far the batch's partial output goes: a client whose cursor is behind <see cref="Cursor"/> has lines to read.</summary>
public sealed class BatchPartialOutput
{
    public string Object => "batch.partial_output";
    public required string Cursor { get; init; }
}

public sealed class BatchErrors
{
    public string Object => "list";
    public required IReadOnlyList<BatchError> Data { get; init; }
}

/// <summary>An item of <c>errors.data</c>; <c>line</c> is 1-based.</summary>
public sealed class BatchError
{
    public required string Code { get; init; }
    public required string Message { get; init; }
    public required string? Param { get; init; }
    public required long? Line { get; init; }
}

public sealed class BatchRequestCounts
{
    public required long Total { get; init; }
    public required long Completed { get; init; }
    public required long Failed { get; init; }
}

public sealed class BatchUsage
{
    public required long InputTokens { get; init; }
    public required InputDetails InputTokensDetails { get; init; }
    public required long OutputTokens { get; init; }
    public required OutputDetails OutputTokensDetails { get; init; }
    public required long TotalTokens { get; init; }

    public sealed class InputDetails { public required long CachedTokens { get; init; } }

    public sealed class OutputDetails { public required long ReasoningTokens { get; init; } }
}

/// <summary>The job's chunks: all of them, those still open (not yet with their results stored), those done.</summary>
public sealed class BatchChunks
{
    public required long Total { get; init; }
    public required long Open { get; init; }
    public required long Done { get; init; }
}

/// <summary>What the job cost at batch prices, what it would have cost at standard prices, and the difference (USD).</summary>
public sealed class BatchCost
{
    public required double BatchUsd { get; init; }
    public required double StandardUsd { get; init; }
    public required double SavingsUsd { get; init; }

    /// <summary>
    /// For a routed model: where the requests ran and what each provider's share cost at its route prices (the job's cost
    /// is the sum). Absent for an unrouted model.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<BatchProviderCost>? Providers { get; init; }
}

/// <summary>One provider's share of a batch: requests whose final result came from it, its tokens, its cost.</summary>
public sealed class BatchProviderCost
{
    public required string Provider { get; init; }
    public required long Completed { get; init; }
    public required long Failed { get; init; }
    public required long InputTokens { get; init; }
    public required long CachedTokens { get; init; }
    public required long OutputTokens { get; init; }
    public required double? BatchUsd { get; init; }
    public required double? StandardUsd { get; init; }

    public static BatchProviderCost From(ProviderLedgerEntry entry) => new()
    {
        Provider = entry.Provider, Completed = entry.Completed, Failed = entry.Failed,
        InputTokens = entry.Usage.InputTokens, CachedTokens = entry.Usage.CachedTokens, OutputTokens = entry.Usage.OutputTokens,
        BatchUsd = entry.Cost?.BatchUsd, StandardUsd = entry.Cost?.StandardUsd,
    };
}
