using System.Text.Json;
using BatchAspire.Sandbox.Executors;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Messages;
using BatchAspire.Sandbox.Storage;
using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Batches;

/// <summary>
/// Moves one batch through validating → in_progress → finalizing → a terminal status. Lines are
/// streamed from the input file and results appended to work files; every checkpoint records how
/// far both got, so after a restart the batch resumes from its last checkpoint (the work files are
/// cut back to it) and no request is answered twice.
/// A message batch (Anthropic's API) takes the same path with its own input, request key (<c>params</c>) and result
/// lines; its requests were checked when it was created, and it never fails as a whole.
/// </summary>
public sealed class BatchProcessor(
    BatchStore batches,
    FileStore files,
    DataFolder folder,
    FaultState faults,
    IRequestExecutor executor,
    TokenCounter tokens,
    EnqueuedTokens enqueued,
    TimeProvider time,
    SandboxStats stats,
    IOptions<SandboxOptions> options,
    ILogger<BatchProcessor> logger)
{
    private enum Mode { Running, Cancelled, Expired }

    private readonly int _checkpointMs = Math.Max(50, options.Value.CheckpointIntervalMs);

    public async Task RunAsync(BatchState batch, CancellationToken stopping)
    {
        if (batch.InProgressAt is null && batch.Status is BatchStatus.Validating or BatchStatus.Cancelling)
        {
            if (!await ValidateAsync(batch, stopping)) return;
        }
        if (batch.EndStatus is null && batch.Status is BatchStatus.InProgress or BatchStatus.Cancelling)
        {
            await ExecuteAsync(batch, stopping);
        }
        if (batch.EndStatus is not null && !BatchStatus.IsTerminal(batch.Status))
        {
            Finalize(batch);
        }
    }

    private long NowMs => time.GetUtcNow().ToUnixTimeMilliseconds();
    private long Now => time.GetUtcNow().ToUnixTimeSeconds();

    private async Task<bool> ValidateAsync(BatchState batch, CancellationToken stopping)
    {
        // Measured from creation, so a restart does not start the delay over.
        var wait = batch.CreatedAtMs + batch.ValidationDelayMs - NowMs;
        if (wait > 0 && !batch.CancelSignal.IsCancellationRequested)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, batch.CancelSignal.Token);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(wait, batch.ExpiresAtMs - NowMs + 1)), time, linked.Token);
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested) { }
        }
        stopping.ThrowIfCancellationRequested();
        if (batch.IsMessageBatch) return StartMessageBatch(batch);
        if (batch.CancelSignal.IsCancellationRequested) return EndWithoutFiles(batch, BatchStatus.Cancelled);
        if (NowMs >= batch.ExpiresAtMs) return EndWithoutFiles(batch, BatchStatus.Expired);

        var input = files.Find(batch.Project, batch.InputFileId);
        var snapshot = faults.Snapshot();
        var limit = snapshot.EnqueuedTokenLimit;
        ValidationResult result;
        try
        {
            if (input is null) throw new FileNotFoundException();
            result = LineValidator.Validate(files.ContentPath(input.Id), batch.Endpoint, limit is null ? null : tokens,
                snapshot.RefuseCustomIdsContaining, azure: batch.IsAzure);
        }
        catch (FileNotFoundException)
        {
            return Fail(batch, [new BatchError("invalid_file", $"The input file {batch.InputFileId} no longer exists.", "input_file_id", null)]);
        }
        if (result.Errors.Count > 0) return Fail(batch, result.Errors);
        var model = result.Model ?? "";
        if (limit is { } max && !enqueued.TryReserve(model, result.PromptTokens, max))
        {
            return Fail(batch, [new BatchError("token_limit_exceeded",
                $"Enqueued token limit reached for {model} in organization org-sandbox. Limit: {max:N0} enqueued tokens. " +
                "Please try again once some in_progress batches have been completed.", null, null)]);
        }

        lock (batch.Gate)
        {
            if (batch.Status == BatchStatus.Cancelling)
            {
                if (limit is not null) enqueued.Release(model, result.PromptTokens);
                return EndWithoutFiles(batch, BatchStatus.Cancelled);
            }
            batch.Status = BatchStatus.InProgress;
            batch.InProgressAt = Now;
            batch.Total = result.Requests;
            batch.Model = result.Model;
            batch.ReservedTokens = limit is null ? 0 : result.PromptTokens;
        }
        batches.Save(batch);
        Log(batch);
        return true;
    }

    /// <summary>
    /// A message batch goes straight to work: a cancel or an expiry during the validation delay is reported request
    /// by request (every result <c>canceled</c> or <c>expired</c>), as the real API does.
    /// </summary>
    private bool StartMessageBatch(BatchState batch)
    {
        lock (batch.Gate)
        {
            if (batch.Status != BatchStatus.Cancelling) batch.Status = BatchStatus.InProgress;
            batch.InProgressAt = Now;
        }
        batches.Save(batch);
        Log(batch);
        return true;
    }

    private bool EndWithoutFiles(BatchState batch, string status)
    {
        lock (batch.Gate)
        {
            batch.Status = status;
            if (status == BatchStatus.Cancelled) batch.CancelledAt = Now;
            else batch.ExpiredAt = Now;
        }
        batches.Save(batch);
        Log(batch);
        return false;
    }

    /// <summary>An unexpected error must not leave a batch running forever: it fails, visibly.</summary>
    public void FailUnexpectedly(BatchState batch) =>
        Fail(batch, [new BatchError("server_error", "The sandbox hit an internal error while processing this batch.", null, null)]);

    private bool Fail(BatchState batch, List<BatchError> errors)
    {
        lock (batch.Gate)
        {
            batch.Status = BatchStatus.Failed;
            batch.FailedAt = Now;
            batch.Errors = errors;
        }
        batches.Save(batch);
        Log(batch);
        return false;
    }

    private async Task ExecuteAsync(BatchState batch, CancellationToken stopping)
    {
        JsonlReader reader;
        try
        {
            var input = batch.IsMessageBatch ? folder.MessageBatchInput(batch.Id) : files.ContentPath(batch.InputFileId);
            reader = new JsonlReader(input, batch.InputOffset, batch.InputLine);
        }
        catch (FileNotFoundException)
        {
            Fail(batch, [new BatchError("invalid_file", $"The input file {batch.InputFileId} was deleted while the batch was running.", "input_file_id", null)]);
            return;
        }
        using var _ = reader;
        using var output = new ResultWriter(folder.BatchOutputPart(batch.Id), batch.OutputBytes, batch.OutputLines, reorder: batch.IsMessageBatch || batch.OutputOutOfOrder);
        using var errors = new ResultWriter(folder.BatchErrorPart(batch.Id), batch.ErrorBytes, batch.ErrorLines, reorder: batch.IsMessageBatch || batch.OutputOutOfOrder);
        lock (batch.Gate)
        {
            // Live counts restart from the checkpoint the work files were cut back to.
            batch.Completed = batch.OutputLines;
            batch.Failed = batch.ErrorLines;
            batch.InputTokens = batch.CheckpointInputTokens;
            batch.CachedTokens = batch.CheckpointCachedTokens;
            batch.OutputTokens = batch.CheckpointOutputTokens;
            batch.ReasoningTokens = batch.CheckpointReasoningTokens;
            batch.CanceledRequests = batch.CheckpointCanceledRequests;
            batch.ExpiredRequests = batch.CheckpointExpiredRequests;
        }

        var run = new Run(batch, reader, output, errors);
        var mode = executor.MaxParallelism <= 1
            ? await RunSequentialAsync(run, stopping)
            : await RunParallelAsync(run, stopping);

        lock (batch.Gate)
        {
            Checkpoint(run);
            batch.EndStatus = mode switch
            {
                Mode.Expired => BatchStatus.Expired,
                Mode.Cancelled => BatchStatus.Cancelled,
                _ => batch.CancellingAt is not null ? BatchStatus.Cancelled : BatchStatus.Completed,
            };
            if (batch.EndStatus == BatchStatus.Completed)
            {
                batch.Status = BatchStatus.Finalizing;
                batch.FinalizingAt = Now;
            }
        }
        batches.Save(batch);
    }

    private sealed record Run(BatchState Batch, JsonlReader Reader, ResultWriter Output, ResultWriter Errors)
    {
        public long Index;            // 0-based request index of the next request
        public long NextCheckpoint = Environment.TickCount64;
        public long Executed;
    }

    private async Task<Mode> RunSequentialAsync(Run run, CancellationToken stopping)
    {
        var batch = run.Batch;
        var scratch = new ExecutionScratch();
        var mode = Mode.Running;
        run.Index = batch.OutputLines + batch.ErrorLines;
        run.NextCheckpoint = Environment.TickCount64 + _checkpointMs;
        while (true)
        {
            if (!run.Reader.TryReadLine(out var line))
            {
                if (!run.Reader.Fill()) break;
                continue;
            }
            if (JsonlReader.IsBlank(line.Span)) continue;
            if (mode == Mode.Running) mode = StopReason(batch);
            if (mode != Mode.Running)
            {
                WriteNotExecuted(run, line.Span, mode);
            }
            else
            {
                if (batch.LineLatencyMs > 0) await Task.Delay(batch.LineLatencyMs, stopping);
                if (!TryInjectFailure(run, line.Span, run.Index))
                {
                    using var document = JsonDocument.Parse(line);
                    var root = document.RootElement;
                    var result = await executor.ExecuteAsync(batch.Endpoint, Body(batch, root), scratch, stopping);
                    Record(run, root.GetProperty("custom_id"), result);
                }
            }
            run.Index++;
            if (Environment.TickCount64 >= run.NextCheckpoint)
            {
                stopping.ThrowIfCancellationRequested();
                lock (batch.Gate) Checkpoint(run);
                batches.Save(batch);
                run.NextCheckpoint = Environment.TickCount64 + _checkpointMs;
            }
        }
        stats.LinesExecuted(run.Executed);
        return mode;
    }

    private async Task<Mode> RunParallelAsync(Run run, CancellationToken stopping)
    {
        var batch = run.Batch;
        var parallelism = executor.MaxParallelism;
        using var slots = new SemaphoreSlim(parallelism);
        var writeGate = new Lock();
        Exception? failure = null;
        var mode = Mode.Running;
        run.Index = batch.OutputLines + batch.ErrorLines;
        run.NextCheckpoint = Environment.TickCount64 + _checkpointMs;

        async Task DrainAsync()
        {
            for (var i = 0; i < parallelism; i++) await slots.WaitAsync(CancellationToken.None);
            slots.Release(parallelism);
            if (failure is not null) throw new InvalidOperationException("A request of the batch failed unexpectedly.", failure);
        }

        try
        {
            while (true)
            {
                if (!run.Reader.TryReadLine(out var line))
                {
                    if (!run.Reader.Fill()) break;
                    continue;
                }
                if (JsonlReader.IsBlank(line.Span)) continue;
                if (mode == Mode.Running)
                {
                    mode = StopReason(batch);
                    if (mode != Mode.Running) await DrainAsync();   // requests in flight finish first, as on the real API
                }
                if (mode != Mode.Running)
                {
                    WriteNotExecuted(run, line.Span, mode);
                }
                else
                {
                    await slots.WaitAsync(stopping);
                    var copy = line.ToArray();   // the reader's buffer moves on while this request runs
                    var index = run.Index;
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            if (batch.LineLatencyMs > 0) await Task.Delay(batch.LineLatencyMs, stopping);
                            lock (writeGate)
                            {
                                if (TryInjectFailure(run, copy, index)) return;
                            }
                            using var document = JsonDocument.Parse(copy);
                            var root = document.RootElement;
                            var result = await executor.ExecuteAsync(batch.Endpoint, Body(batch, root), new ExecutionScratch(), stopping);
                            lock (writeGate) Record(run, root.GetProperty("custom_id"), result);
                        }
                        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
                        catch (Exception e)
                        {
                            failure ??= e;
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }, CancellationToken.None);
                }
                run.Index++;
                if (Environment.TickCount64 >= run.NextCheckpoint)
                {
                    await DrainAsync();
                    stopping.ThrowIfCancellationRequested();
                    lock (batch.Gate) Checkpoint(run);
                    batches.Save(batch);
                    run.NextCheckpoint = Environment.TickCount64 + _checkpointMs;
                }
            }
        }
        finally
        {
            // Never leave requests running against writers that are about to be disposed.
            for (var i = 0; i < parallelism; i++) await slots.WaitAsync(CancellationToken.None);
            slots.Release(parallelism);
        }
        if (failure is not null) throw new InvalidOperationException("A request of the batch failed unexpectedly.", failure);
        stopping.ThrowIfCancellationRequested();
        stats.LinesExecuted(run.Executed);
        return mode;
    }

    private static JsonElement Body(BatchState batch, JsonElement line) => line.GetProperty(batch.IsMessageBatch ? "params" : "body");

    private Mode StopReason(BatchState batch) =>
        batch.CancelSignal.IsCancellationRequested ? Mode.Cancelled
        : NowMs >= batch.ExpiresAtMs ? Mode.Expired
        : Mode.Running;

    private static void WriteNotExecuted(Run run, ReadOnlySpan<byte> line, Mode mode)
    {
        if (run.Batch.IsMessageBatch)
        {
            MessageResultLines.WriteNotRun(run.Errors, ResultLines.CustomId(line), expired: mode == Mode.Expired);
            lock (run.Batch.Gate)
            {
                run.Batch.Failed++;
                if (mode == Mode.Expired) run.Batch.ExpiredRequests++;
                else run.Batch.CanceledRequests++;
            }
            return;
        }
        if (mode == Mode.Expired) ResultLines.WriteNotExecuted(run.Errors, line, "batch_expired", ResultLines.ExpiredMessage);
        else ResultLines.WriteNotExecuted(run.Errors, line, "batch_cancelled", ResultLines.CancelledMessage);
        lock (run.Batch.Gate) run.Batch.Failed++;
    }

    /// <summary>The line-failure knobs: a stable roll per (batch, request), so a resumed batch fails the same lines.</summary>
    private static bool TryInjectFailure(Run run, ReadOnlySpan<byte> line, long index)
    {
        var batch = run.Batch;
        if (batch.Fail429Rate <= 0 && batch.Fail500Rate <= 0) return false;
        var roll = Fnv.Unit(batch.Id, index);
        int status = roll < batch.Fail429Rate ? 429 : roll < batch.Fail429Rate + batch.Fail500Rate ? 500 : 0;
        if (status == 0) return false;
        if (batch.IsMessageBatch) MessageResultLines.WriteInjectedFailure(run.Errors, ResultLines.CustomId(line), status);
        else ResultLines.WriteInjectedFailure(run.Errors, line, status);
        lock (batch.Gate) batch.Failed++;
        return true;
    }

    private static void Record(Run run, JsonElement customId, ExecutionResult result)
    {
        var batch = run.Batch;
        if (!batch.IsMessageBatch) ResultLines.WriteResponse(result.IsSuccess ? run.Output : run.Errors, customId, result.StatusCode, result.Body.Span);
        else if (result.IsSuccess) MessageResultLines.WriteSucceeded(run.Output, customId, result.Body.Span);
        else MessageResultLines.WriteErrored(run.Errors, customId, result.StatusCode, result.Body.Span);
        run.Executed++;
        lock (batch.Gate)
        {
            if (result.IsSuccess)
            {
                batch.Completed++;
                batch.InputTokens += result.Usage.Prompt;
                batch.CachedTokens += result.Usage.Cached;
                batch.OutputTokens += result.Usage.Completion;
                batch.ReasoningTokens += result.Usage.Reasoning;
            }
            else
            {
                batch.Failed++;
            }
        }
    }

    /// <summary>Call under the batch gate, with no request in flight.</summary>
    private static void Checkpoint(Run run)
    {
        var batch = run.Batch;
        run.Output.Flush();
        run.Errors.Flush();
        batch.InputOffset = run.Reader.Offset;
        batch.InputLine = run.Reader.LineNumber;
        batch.OutputBytes = run.Output.Bytes;
        batch.ErrorBytes = run.Errors.Bytes;
        batch.OutputLines = run.Output.Lines;
        batch.ErrorLines = run.Errors.Lines;
        batch.CheckpointInputTokens = batch.InputTokens;
        batch.CheckpointCachedTokens = batch.CachedTokens;
        batch.CheckpointOutputTokens = batch.OutputTokens;
        batch.CheckpointReasoningTokens = batch.ReasoningTokens;
        batch.CheckpointCanceledRequests = batch.CanceledRequests;
        batch.CheckpointExpiredRequests = batch.ExpiredRequests;
    }

    private void Finalize(BatchState batch)
    {
        if (batch.IsMessageBatch)
        {
            // Results are served by the batch's results endpoint, not published as files.
            PublishResults(folder.BatchOutputPart(batch.Id), folder.MessageBatchResults(batch.Id, 1));
            PublishResults(folder.BatchErrorPart(batch.Id), folder.MessageBatchResults(batch.Id, 2));
        }
        else
        {
            FinalizeFiles(batch);
        }
        lock (batch.Gate)
        {
            batch.OutputFileId = batch.PlannedOutputFileId;
            batch.ErrorFileId = batch.PlannedErrorFileId;
            batch.Completed = batch.OutputLines;
            batch.Failed = batch.ErrorLines;
            batch.Status = batch.EndStatus!;
            switch (batch.Status)
            {
                case BatchStatus.Completed: batch.CompletedAt = Now; break;
                case BatchStatus.Expired: batch.ExpiredAt = Now; break;
                default: batch.CancelledAt = Now; break;
            }
        }
        batches.Save(batch);
        if (batch.ReservedTokens > 0) enqueued.Release(batch.Model ?? "", batch.ReservedTokens);
        Log(batch);
    }

    /// <summary>A crash after some moves finds those parts gone and the results in place: moving again is a no-op.</summary>
    private static void PublishResults(string partPath, string resultsPath)
    {
        if (File.Exists(partPath)) File.Move(partPath, resultsPath, overwrite: true);
        else if (!File.Exists(resultsPath)) File.WriteAllBytes(resultsPath, []);
    }

    private void FinalizeFiles(BatchState batch)
    {
        lock (batch.Gate)
        {
            if (batch.OutputLines > 0) batch.PlannedOutputFileId ??= Ids.NewFileId();
            if (batch.ErrorLines > 0) batch.PlannedErrorFileId ??= Ids.NewFileId();
        }
        batches.Save(batch);   // the ids are fixed before the files appear, so a crash here cannot create them twice
        PublishResultFile(batch, batch.PlannedOutputFileId, folder.BatchOutputPart(batch.Id), "output");
        PublishResultFile(batch, batch.PlannedErrorFileId, folder.BatchErrorPart(batch.Id), "error");
        File.Delete(folder.BatchOutputPart(batch.Id));
        File.Delete(folder.BatchErrorPart(batch.Id));
    }

    private void PublishResultFile(BatchState batch, string? fileId, string partPath, string kind)
    {
        if (fileId is null || files.Exists(fileId) || !File.Exists(partPath)) return;
        var now = Now;
        var record = new FileRecord
        {
            Id = fileId,
            Project = batch.Project,
            Filename = $"{batch.Id}_{kind}.jsonl",
            Purpose = "batch_output",
            Bytes = new FileInfo(partPath).Length,
            CreatedAt = now,
            ExpiresAt = now + (batch.OutputExpiresAfter ?? Files.FileLimits.DefaultBatchFileExpirySeconds),
            Seq = files.NextSeq(),
        };
        files.Add(record, partPath);
        stats.FileCreated();
    }

    private void Log(BatchState batch) =>
        SandboxLog.BatchStatusChanged(logger, batch.Id, batch.Status, batch.Completed, batch.Failed, batch.Total);
}
