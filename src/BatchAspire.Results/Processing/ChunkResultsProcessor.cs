using System.Buffers;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Pricing;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Results;
using BatchAspire.Core.Telemetry;
using BatchAspire.Providers;
using MassTransit;
using StackExchange.Redis;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Takes a finished chunk's outcome: streams the provider's output and error files line by line, maps each
/// custom_id to its input line, stores final results (successes and permanent failures) with HSETNX semantics,
/// and hands transient failures on as a new attempt in a new chunk (up to <see cref="ResultsOptions.MaxAttempts"/>, for a
/// routed model at each provider of its route in turn: <see cref="ProviderFallback"/>).
/// A chunk is completed by one guarded script, so a redelivered <see cref="ChunkFinished"/> changes nothing.
/// </summary>
public sealed class ChunkResultsProcessor(
    ChunkStore chunks,
    ResultStore results,
    IJobStore jobs,
    IFileStore files,
    ProviderDirectory providers,
    ProviderFileDeletions providerFiles,
    JobFinalizer finalizer,
    IOptions<ResultsOptions> options,
    ResultsTelemetry telemetry,
    TimeProvider time,
    ILogger<ChunkResultsProcessor> logger)
{
    private const int LinesPerBatch = 512;
    private const int BytesPerBatch = 448 * 1024;   // with the 64 KiB of slack below, one 512 KiB pooled array
    private const int StoresInFlight = 3;

    private readonly ResultsOptions _options = options.Value;

    /// <summary>A chunk's provider batch ended: store its results.</summary>
    public Task ProcessAsync(ChunkFinished finished, IPublishEndpoint publish, CancellationToken ct) =>
        ProcessAsync(finished.ChunkId, finished.ProviderBatchId, finished.ProviderStatus, publish, ct);

    /// <summary>A chunk closed without a provider batch: its requests end with its close reason.</summary>
    public Task ProcessAsync(ChunkClosed closed, IPublishEndpoint publish, CancellationToken ct) =>
        ProcessAsync(closed.ChunkId, providerBatchId: "", providerStatus: null, publish, ct);

    // A ChunkFinished without a provider batch id was how a version before ChunkClosed announced a closed chunk; one may
    // still wait in a queue after an upgrade, and the empty id takes it down the closed chunk's path.
    private async Task ProcessAsync(string chunkId, string providerBatchId, string? providerStatus, IPublishEndpoint publish,
        CancellationToken ct)
    {
        using var activity = ResultsTelemetry.Source.StartActivity("process chunk results");
        using var stage = JobStages.Time(JobStages.ChunkResults);
        activity?.SetTag(TelemetryTags.JobId, ChunkIds.JobOf(chunkId));
        activity?.SetTag(TelemetryTags.ChunkId, chunkId);
        if (providerBatchId.Length > 0) activity?.SetTag(TelemetryTags.ProviderBatchId, providerBatchId);
        if (providerStatus is not null) activity?.SetTag(TelemetryTags.ProviderStatus, providerStatus);

        var chunk = await chunks.GetAsync(chunkId);
        var job = chunk is null ? null : await jobs.GetAsync(chunk.JobId, ct);
        if (chunk is null || job is null)
        {
            logger.UnknownChunk(chunkId);
            await results.ForgetFinishedChunkAsync(chunkId);
            return;
        }
        if (JobStatus.IsTerminal(job.Status))
        {
            // Nothing reads an ended job's results: the chunk leaves the finished list now, not at the republisher's bound.
            await results.ForgetFinishedChunkAsync(chunkId);
            return;
        }
        if (chunk.ResultsDone)
        {
            // Redelivered: only make sure what the first delivery started went out.
            await ResendSuccessorAsync(chunk, publish, ct);
            await finalizer.TryFinalizeAsync(chunk.JobId, force: false, ct);
            return;
        }
        if (providerBatchId.Length > 0 && providerBatchId != chunk.ProviderBatchId)
        {
            logger.StaleFinished(chunk.Id, providerBatchId);
            return;
        }

        // This pass's result runs: ids of its own, so a second pass over the same chunk (a redelivery racing this one)
        // never writes into them; only the pass that completes the chunk has its runs recorded.
        var pass = Guid.NewGuid().ToString("N")[..12];
        var number = ChunkIds.NumberOf(chunk.Id);
        await using var outputRun = results.CreateRunWriter(chunk.JobId, $"{number}.o.{pass}", RunKind.Output);
        await using var errorRun = results.CreateRunWriter(chunk.JobId, $"{number}.e.{pass}", RunKind.Error);
        CompleteChunkOutcome complete;
        ChunkOutcome outcome;
        using var passEnded = new CancellationTokenSource();
        var showingLife = ShowLifeAsync(chunk.Id, passEnded.Token);
        try
        {
            outcome = await ReadOutcomeAsync(chunk, job, outputRun, errorRun, ct);
            await outputRun.CompleteAsync();
            await errorRun.CompleteAsync();
            complete = await results.CompleteChunkAsync(chunk.Id, outcome.Usage, outcome.Successor, outcome.Retry,
                outcome.Successor == SuccessorKind.Retry ? chunk.Attempt + 1 : chunk.Attempt, _options.CapacityRetryDelay,
                // Listed files are deleted at the default provider; a routed provider's files are kept (docs/providers.md).
                outputRun.Run, errorRun.Run, _options.DeleteProviderFiles && chunk.Provider is null,
                outcome.Successor == SuccessorKind.Retry ? outcome.Fallback.Retry : outcome.Fallback.Capacity,
                new EndedRequests(outcome.Completed, outcome.Failed));
        }
        catch
        {
            await DeleteRunsAsync(outputRun, errorRun);
            throw;
        }
        finally
        {
            await passEnded.CancelAsync();
            await showingLife;
        }
        if (!complete.CompletedNow) await DeleteRunsAsync(outputRun, errorRun);
        if (complete.SuccessorChunkId is { } successor && outcome.Successor == SuccessorKind.Retry)
        {
            await publish.Publish(new RequestsRetryable { JobId = chunk.JobId, ChunkId = successor }, ct);
            if (complete.CompletedNow) telemetry.Retries.Add(outcome.Retry.Count);
        }
        logger.ChunkProcessed(chunk.Id, chunk.JobId, outcome.Finals, outcome.Retry.Count,
            complete.SuccessorChunkId ?? "none", outcome.Foreign);
        await finalizer.TryFinalizeAsync(chunk.JobId, force: false, ct);
        await providerFiles.DeleteAsync(complete.ProviderFilesToDelete, ct);
    }

    /// <summary>
    /// While a pass runs, its chunk shows life in <c>ba:chunks:finished</c> at the start and every quarter of
    /// <see cref="ResultsOptions.RepublishFinishedAfter"/>, so a long download is not taken for a lost
    /// <see cref="ChunkFinished"/>. Best effort: a missed sign at worst gets the chunk announced again, which changes nothing.
    /// </summary>
    private async Task ShowLifeAsync(string chunkId, CancellationToken passEnded)
    {
        try
        {
            while (!passEnded.IsCancellationRequested)
            {
                try
                {
                    await results.ShowLifeAsync(chunkId);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    logger.ShowLifeFailed(e, chunkId);
                }
                await Task.Delay(_options.RepublishFinishedAfter / 4, time, passEnded);
            }
        }
        catch (OperationCanceledException) when (passEnded.IsCancellationRequested)
        {
        }
    }

    private static async Task DeleteRunsAsync(ResultRunWriter output, ResultRunWriter error)
    {
        try
        {
            await output.DeleteAsync();
            await error.DeleteAsync();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Unrecorded runs expire on their own.
        }
    }

    private async Task ResendSuccessorAsync(ChunkRecord chunk, IPublishEndpoint publish, CancellationToken ct)
    {
        if (chunk[ChunkFields.Successor] is not { } successorId || await chunks.GetAsync(successorId) is not { } successor) return;
        if (successor.Attempt > chunk.Attempt && successor.ProviderBatchId is null && !successor.IsClosed)
            await publish.Publish(new RequestsRetryable { JobId = chunk.JobId, ChunkId = successorId }, ct);
    }

    private async Task<ChunkOutcome> ReadOutcomeAsync(ChunkRecord chunk, JobRecord job, ResultRunWriter outputRun, ResultRunWriter errorRun,
        CancellationToken ct)
    {
        var inputFileId = job[JobFields.InputFileId] ?? throw new InvalidOperationException($"Job {job.Id} has no input file.");
        var userCancelled = job.Status == JobStatus.Cancelling;
        var stopping = userCancelled || job[JobFields.ExpiringAt] is not null;
        var fallback = ProviderFallback.Decide(providers.Routing.RouteOf(job[JobFields.Model]), chunk, _options.MaxAttempts);
        var lastAttempt = fallback.LastTry;
        var lines = await chunks.ReadLineIndexesAsync(chunk);
        var seen = new bool[lines.Length];
        var retry = new List<long>();
        var usage = default(TokenUsage);
        long completed = 0, failed = 0, foreign = 0;

        // The chunk's own custom_ids, read once from its input lines: mapping a result line to its request then costs
        // no Redis round trip, and an id that is not this chunk's is foreign by construction.
        Dictionary<string, int>? positions = null;
        var batch = new LineBatch();
        var spare = new Stack<LineBatch>();
        // Stores in flight with the batch whose memory they read: parsing the next lines overlaps Redis' work.
        var storing = new Queue<(Task Store, LineBatch Batch)>();

        async Task WaitForStoreAsync()
        {
            var (store, stored) = storing.Dequeue();
            try
            {
                await store;
            }
            finally
            {
                stored.Clear();
                spare.Push(stored);
            }
        }

        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            var stored = new List<FinalResult>(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                if (!ResultLine.TryParse(batch.Line(i).Span, out var info) || !positions!.TryGetValue(info.CustomId!, out var position)
                    || seen[position])
                {
                    foreign++;
                    continue;
                }
                seen[position] = true;
                usage += info.Usage;
                bool? failure = ResultLine.Classify(info, userCancelled) switch
                {
                    ResultOutcome.Success => false,
                    ResultOutcome.Permanent => true,
                    ResultOutcome.Transient when stopping => null,   // ends as batch_cancelled / batch_expired
                    ResultOutcome.Transient when lastAttempt => true,
                    _ => null,
                };
                if (failure is not { } isFailure)
                {
                    if (!stopping) retry.Add(lines[position]);
                    continue;
                }
                if (isFailure) failed++;
                else completed++;
                // In line order (the usual case), a final result joins its run; out of order, it goes to the results hash.
                if (!await (isFailure ? errorRun : outputRun).TryAppendAsync(lines[position], batch.Line(i)))
                    stored.Add(new FinalResult(lines[position], isFailure, batch.Line(i)));
            }
            if (stored.Count == 0)
            {
                batch.Clear();
                return;
            }
            storing.Enqueue((results.StoreFinalsAsync(chunk.JobId, stored), batch));
            batch = spare.Count > 0 ? spare.Pop() : new LineBatch();
            while (storing.Count >= StoresInFlight) await WaitForStoreAsync();
        }

        try
        {
            var provider = providers.Get(chunk.Provider);
            if (provider.Anthropic is { } anthropic && !string.IsNullOrEmpty(chunk.ProviderBatchId))
            {
                // One stream of results in any order, already OpenAI result lines; the custom_id sent was the line index.
                var customIds = await ReadCustomIdsAsync(chunk, inputFileId, lines, ct);
                positions = Positions(customIds);
                using var download = ResultsTelemetry.Source.StartActivity("download results");
                download?.SetTag(TelemetryTags.ChunkId, chunk.Id);
                await foreach (var result in anthropic.ResultsAsync(chunk.ProviderBatchId, sent => LineCustomId(sent, lines, customIds), ct))
                {
                    batch.Add(new ReadOnlySequence<byte>(result.OpenAILine));
                    if (batch.Count >= LinesPerBatch || batch.Bytes >= BytesPerBatch) await FlushAsync();
                }
                await FlushAsync();
            }
            foreach (var fileId in provider.Anthropic is null
                ? new[] { chunk[ChunkPollFields.ProviderOutputFileId], chunk[ChunkPollFields.ProviderErrorFileId] } : [])
            {
                if (string.IsNullOrEmpty(fileId)) continue;
                positions ??= await ReadPositionsAsync(chunk, inputFileId, lines, ct);
                using var download = ResultsTelemetry.Source.StartActivity("download results");
                download?.SetTag(TelemetryTags.ChunkId, chunk.Id);
                await using var content = await provider.Commands!.OpenContentAsync(fileId, ct);
                await foreach (var line in ResultFileReader.ReadLinesAsync(content, _options.MaxResultLineBytes, ct))
                {
                    batch.Add(line);
                    if (batch.Count >= LinesPerBatch || batch.Bytes >= BytesPerBatch) await FlushAsync();
                }
                await FlushAsync();
            }
            while (storing.Count > 0) await WaitForStoreAsync();
        }
        finally
        {
            // A buffer goes back to the pool only once Redis has read it.
            while (storing.Count > 0)
            {
                try { await WaitForStoreAsync(); } catch (Exception) { /* the first failure is already on its way up */ }
            }
            batch.Dispose();
            foreach (var unused in spare) unused.Dispose();
        }

        // Requests the provider said nothing about: the whole batch failed, was cancelled or expired, or the chunk
        // never reached the provider.
        var missing = new List<long>();
        for (var i = 0; i < lines.Length; i++) if (!seen[i]) missing.Add(lines[i]);
        var successor = SuccessorKind.None;
        if (missing.Count > 0 && !stopping)
        {
            if (IsCapacityRefusal(chunk) && retry.Count == 0)
            {
                retry.AddRange(missing);
                successor = SuccessorKind.Capacity;
            }
            else if (RefusedLines(chunk, lines) is { Count: > 0 } refused)
            {
                // The provider named the lines it refused: only they fail, with its code. The others were never tried,
                // so they go out again at once even after the last attempt; each round ends at least one line, so it stops.
                var ended = missing.Where(refused.ContainsKey).ToList();
                failed += await StoreUnansweredAsync(chunk, inputFileId, ended, index => refused[index], errorRun, ct);
                retry.AddRange(missing.Where(index => !refused.ContainsKey(index)));
            }
            else if (lastAttempt)
            {
                var code = chunk[ChunkFields.CloseReason] ?? FirstProviderErrorCode(chunk) ?? $"batch_{chunk.Status ?? "failed"}";
                failed += await StoreUnansweredAsync(chunk, inputFileId, missing, _ => (code, ResultLine.MessageFor(code)), errorRun, ct);
            }
            else
            {
                retry.AddRange(missing);
            }
        }
        if (retry.Count > 0 && successor == SuccessorKind.None) successor = SuccessorKind.Retry;
        retry.Sort();
        return new ChunkOutcome(successor, retry, usage, completed, failed, foreign, fallback);
    }

    /// <summary>custom_id → position in the chunk, from the chunk's input lines (a repeated id keeps its first line).</summary>
    private async Task<Dictionary<string, int>> ReadPositionsAsync(ChunkRecord chunk, string inputFileId, long[] lines, CancellationToken ct)
    {
        var positions = new Dictionary<string, int>(lines.Length, StringComparer.Ordinal);
        var position = 0;
        if (chunk.IsList)
        {
            await foreach (var (_, line) in files.ReadLinesAsync(inputFileId, lines, ct))
                positions.TryAdd(ResultLine.CustomIdOfRequest(line.Span), position++);
        }
        else
        {
            await foreach (var line in files.ReadLinesAsync(inputFileId, chunk.First, chunk.Count, ct))
                positions.TryAdd(ResultLine.CustomIdOfRequest(line.Span), position++);
        }
        positions.Remove("");   // a line without a custom_id cannot be answered by id
        return positions;
    }

    /// <summary>The chunk's custom_ids by position (an Anthropic chunk's results name lines by index, not by custom_id).</summary>
    private async Task<string[]> ReadCustomIdsAsync(ChunkRecord chunk, string inputFileId, long[] lines, CancellationToken ct)
    {
        var ids = new string[lines.Length];
        var position = 0;
        if (chunk.IsList)
        {
            await foreach (var (_, line) in files.ReadLinesAsync(inputFileId, lines, ct)) ids[position++] = ResultLine.CustomIdOfRequest(line.Span);
        }
        else
        {
            await foreach (var line in files.ReadLinesAsync(inputFileId, chunk.First, chunk.Count, ct)) ids[position++] = ResultLine.CustomIdOfRequest(line.Span);
        }
        return ids;
    }

    private static Dictionary<string, int> Positions(string[] customIds)
    {
        var positions = new Dictionary<string, int>(customIds.Length, StringComparer.Ordinal);
        for (var i = 0; i < customIds.Length; i++) if (customIds[i] is { Length: > 0 } id) positions.TryAdd(id, i);
        return positions;
    }

    /// <summary>The line's own custom_id for the one sent to Anthropic (the line's index in the job), or null if it is not this chunk's.</summary>
    private static string? LineCustomId(string sent, long[] lines, string[] customIds) =>
        long.TryParse(sent, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
        && Array.BinarySearch(lines, index) is >= 0 and var position ? customIds[position] : null;

    /// <summary>Final failures for requests that never got a result line, in the error-line format.</summary>
    private async Task<long> StoreUnansweredAsync(ChunkRecord chunk, string inputFileId, List<long> missing,
        Func<long, (string Code, string Message)> reasonOf, ResultRunWriter errorRun, CancellationToken ct)
    {
        var stored = new List<FinalResult>(Math.Min(missing.Count, LinesPerBatch));
        long count = 0;
        await foreach (var (index, line) in files.ReadLinesAsync(inputFileId, missing, ct))
        {
            var customId = ResultLine.CustomIdOfRequest(line.Span);
            var (code, message) = reasonOf(index);
            var unanswered = ResultLine.Unanswered(customId, code, message);
            count++;
            if (await errorRun.TryAppendAsync(index, unanswered)) continue;
            stored.Add(new FinalResult(index, true, unanswered));
            if (stored.Count == LinesPerBatch)
            {
                await results.StoreFinalsAsync(chunk.JobId, stored);
                stored.Clear();
            }
        }
        await results.StoreFinalsAsync(chunk.JobId, stored);
        return count;
    }

    private static bool IsCapacityRefusal(ChunkRecord chunk) =>
        chunk.Status == JobStatus.Failed && chunk[ChunkPollFields.ProviderErrors] is { } errors
        && errors.Contains("\"token_limit_exceeded\"", StringComparison.Ordinal);

    /// <summary>
    /// Request index → the provider's code and message, when a failed batch's errors all name a line of the chunk's
    /// upload (1-based, in the chunk's line order); null when any error is about the batch as a whole.
    /// </summary>
    private static Dictionary<long, (string Code, string Message)>? RefusedLines(ChunkRecord chunk, long[] lines)
    {
        if (chunk.Status != JobStatus.Failed || chunk[ChunkPollFields.ProviderErrors] is not { Length: > 0 } errors) return null;
        var refused = new Dictionary<long, (string, string)>();
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(errors);
            foreach (var error in document.RootElement.EnumerateArray())
            {
                if (!error.TryGetProperty("line", out var line) || line.ValueKind != System.Text.Json.JsonValueKind.Number
                    || !line.TryGetInt64(out var number) || number < 1 || number > lines.Length)
                {
                    return null;
                }
                var code = error.TryGetProperty("code", out var c) && c.GetString() is { Length: > 0 } text ? text : "invalid_request";
                var message = error.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } said
                    ? said
                    : "The provider refused this request.";
                refused.TryAdd(lines[number - 1], (code, message));
            }
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        return refused;
    }

    private static string? FirstProviderErrorCode(ChunkRecord chunk)
    {
        if (chunk[ChunkPollFields.ProviderErrors] is not { Length: > 0 } errors) return null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(errors);
            foreach (var error in document.RootElement.EnumerateArray())
                if (error.TryGetProperty("code", out var code) && code.GetString() is { Length: > 0 } text) return text;
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return null;
    }

    private sealed record ChunkOutcome(SuccessorKind Successor, List<long> Retry, TokenUsage Usage, long Completed, long Failed, long Foreign,
        ProviderFallback.Decision Fallback)
    {
        public long Finals => Completed + Failed;
    }

    /// <summary>Lines copied out of the download pipe into one pooled buffer until the batch is stored.</summary>
    private sealed class LineBatch : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BytesPerBatch + 64 * 1024);
        private readonly List<(int Start, int Length)> _lines = new(LinesPerBatch);

        public int Count => _lines.Count;

        public int Bytes { get; private set; }

        public ReadOnlyMemory<byte> Line(int i) => _buffer.AsMemory(_lines[i].Start, _lines[i].Length);

        public void Add(ReadOnlySequence<byte> line)
        {
            var length = checked((int)line.Length);
            if (Bytes + length > _buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Bytes + length));
                _buffer.AsSpan(0, Bytes).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            line.CopyTo(_buffer.AsSpan(Bytes));
            _lines.Add((Bytes, length));
            Bytes += length;
        }

        public void Clear()
        {
            _lines.Clear();
            Bytes = 0;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);
    }
}
