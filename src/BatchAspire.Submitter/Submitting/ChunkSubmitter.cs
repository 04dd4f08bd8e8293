using System.Diagnostics;
using System.Globalization;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Faults;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Polling;
using BatchAspire.Core.Providers;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Telemetry;
using BatchAspire.Core.Translation;
using BatchAspire.Providers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Submitter.Submitting;

/// <summary>How one submit call ended.</summary>
public enum SubmitOutcome { Created, Recovered, AlreadySubmitted, Refused, Uncertain, Closed, Busy, Missing, LeaseLost }

/// <summary>
/// Takes one chunk to the provider: upload its lines as a stream, create the batch with metadata naming job, chunk
/// and attempt, record the provider batch id, schedule the first poll (the poller takes it from the schedule: no message).
/// A submit lease (renewed while working) keeps a second submitter off the chunk; a chunk whose create started
/// before is first looked up by its metadata, so a crash or an unanswered create never leads to a second batch.
/// Refusals and uncertain outcomes put the chunk in <c>ba:chunks:delayed</c> and end the message: long waits live
/// in Redis, not in the broker.
/// </summary>
public sealed class ChunkSubmitter(
    ChunkStore chunks,
    IJobStore jobs,
    IFileStore files,
    ProviderDirectory providers,
    ProviderCapacity capacity,
    PollSchedule pollSchedule,
    JobStopper stopper,
    TimeProvider time,
    IOptions<SubmitterOptions> options,
    SubmitterTelemetry telemetry,
    ILogger<ChunkSubmitter> logger)
{
    private readonly SubmitterOptions _options = options.Value;

    public async Task<SubmitOutcome> SubmitAsync(string chunkId, IPublishEndpoint publish, CancellationToken ct)
    {
        var jobId = ChunkIds.JobOf(chunkId);
        using var activity = SubmitterTelemetry.Source.StartActivity("submit chunk");
        using var stage = JobStages.Time(JobStages.SubmitChunk);
        activity?.SetTag(TelemetryTags.JobId, jobId);
        activity?.SetTag(TelemetryTags.ChunkId, chunkId);

        var token = Guid.NewGuid().ToString("N");
        var lease = await chunks.TakeSubmitLeaseAsync(chunkId, token, _options.SubmitLease);
        var outcome = lease.Result switch
        {
            LeaseResult.Taken => await SubmitLeasedAsync(chunkId, token, publish, ct),
            LeaseResult.AlreadySubmitted => await EnsureScheduledAsync(chunkId),
            LeaseResult.Closed => await AnnounceClosedAsync(chunkId, publish, ct),
            LeaseResult.JobStopping => await CloseForStopAsync(chunkId, publish, ct),
            LeaseResult.Busy => Busy(chunkId),
            _ => SubmitOutcome.Missing,
        };
        activity?.SetTag(TelemetryTags.Outcome, outcome.ToString().ToLowerInvariant());
        telemetry.RecordSubmission(outcome.ToString().ToLowerInvariant());
        return outcome;
    }

    private async Task<SubmitOutcome> SubmitLeasedAsync(string chunkId, string token, IPublishEndpoint publish, CancellationToken ct)
    {
        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var renewal = new CancellationTokenSource();
        var renewing = RenewAsync(chunkId, token, leaseLost, renewal.Token);
        var released = false;
        try
        {
            var chunk = await chunks.GetAsync(chunkId) ?? throw new InvalidOperationException($"Chunk {chunkId} vanished under its lease.");
            var job = await jobs.GetAsync(chunk.JobId, ct) ?? throw new InvalidOperationException($"Job {chunk.JobId} of chunk {chunkId} is gone.");
            var metadata = Metadata(chunk);
            var (provider, model) = ChooseProvider(chunk, job);
            Activity.Current?.SetTag(TelemetryTags.Provider, provider.Label);

            if (chunk.CreateStartedAtMs is { } startedMs)
            {
                var found = await LookUpAsync(provider, metadata, startedMs, leaseLost.Token);
                if (found is not null) return await RecordAsync(chunk, provider, found, chunk.ProviderFileId ?? "", recovered: true, publish, ct);
            }

            // An openai provider reads the chunk from a file uploaded first; an anthropic one takes the translated lines in the create.
            string fileId = "";
            IReadOnlyList<ReadOnlyMemory<byte>>? requests = null;
            try
            {
                if (provider.IsAnthropic)
                {
                    requests = await TranslateAsync(chunk, job, model, leaseLost.Token);
                    if (requests is null) return await RejectAsync(chunkId, 400, "invalid_request", publish, ct);
                }
                else
                {
                    fileId = chunk.ProviderFileId ?? await UploadAsync(provider, chunk, job, model, leaseLost.Token);
                }
            }
            catch (ProviderCallException exception) when (FaultRule.Classify(exception) == FaultKind.ProviderRejected)
            {
                return await RejectAsync(chunkId, exception, publish, ct);
            }
            catch (ProviderCallException exception)
            {
                if (exception.Status == 429) capacity.Refused(provider.Label);
                return await DelayAsync(chunkId, exception.Status);
            }
            catch (Exception exception) when (IsUnanswered(exception, ct))
            {
                return await DelayAsync(chunkId, 0);
            }

            var begin = await chunks.BeginCreateAsync(chunkId, token, fileId, provider.Name);
            switch (begin.Result)
            {
                case BeginCreateResult.AlreadySubmitted: return await EnsureScheduledAsync(chunkId);
                case BeginCreateResult.JobStopping: return await CloseForStopAsync(chunkId, publish, ct);
                case BeginCreateResult.LeaseLost: released = true; return SubmitOutcome.LeaseLost;
            }

            ProviderBatchSnapshot created;
            try
            {
                created = provider.Anthropic is { } anthropic
                    ? (await anthropic.CreateAsync(requests!, leaseLost.Token)).ToProviderSnapshot()
                    : await provider.Commands!.CreateBatchAsync(fileId, provider.CreateEndpoint(job[JobFields.Endpoint] ?? ""), metadata, leaseLost.Token);
            }
            catch (ProviderCallException exception) when (exception.Status == 429)
            {
                capacity.Refused(provider.Label);
                return await DelayAsync(chunkId, 429);
            }
            catch (ProviderCallException exception) when (FaultRule.Classify(exception) == FaultKind.ProviderRejected)
            {
                return await RejectAsync(chunkId, exception, publish, ct);
            }
            catch (Exception exception) when (exception is ProviderCallException || IsUnanswered(exception, ct))
            {
                // The create may or may not have happened: look it up before anything else.
                var found = await TryLookUpAsync(provider, metadata, begin.CreateStartedAtMs, ct);
                if (found is not null) return await RecordAsync(chunk, provider, found, fileId, recovered: true, publish, ct);
                var delay = await chunks.DelayAsync(chunkId, _options.RefusalDelay, _options.MaxRefusalDelay, countRefusal: true);
                await chunks.ReleaseSubmitLeaseAsync(chunkId, token, unschedule: false);
                released = true;
                logger.CreateUncertain(exception, chunkId, delay);
                return SubmitOutcome.Uncertain;
            }
            capacity.Accepted(provider.Label);
            return await RecordAsync(chunk, provider, created, fileId, recovered: false, publish, ct);
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            if (!released) await chunks.ReleaseSubmitLeaseAsync(chunkId, token, unschedule: false);
        }
    }

    /// <summary>
    /// The provider this try goes to: where the chunk's create started, if it did (a batch may exist there); else the
    /// first provider of the model's route that is not refusing (the first if all are); an unrouted model's default.
    /// </summary>
    private RouteStep ChooseProvider(ChunkRecord chunk, JobRecord job)
    {
        var route = providers.RouteOf(job[JobFields.Model]);
        if (chunk.Provider is { } pinned)
            return route.FirstOrDefault(step => step.Provider.Name == pinned) ?? new RouteStep(providers.Get(pinned), null);
        if (chunk.CreateStartedAtMs is not null) return new RouteStep(providers.Default, null);
        return route.Count == 1 ? route[0] : route.FirstOrDefault(step => !capacity.IsRefusing(step.Provider.Label)) ?? route[0];
    }

    /// <summary>
    /// The chunk's lines as Anthropic requests, each with its line index as custom_id and the route's model name; null if a
    /// line does not translate (the intake refuses such lines for a model routed to Anthropic first, so only a route changed
    /// since, or a fallback, gets here). The SDK sends a batch's requests inline, so they are held until the create is sent.
    /// </summary>
    private async Task<IReadOnlyList<ReadOnlyMemory<byte>>?> TranslateAsync(ChunkRecord chunk, JobRecord job, string? model, CancellationToken ct)
    {
        var inputFileId = job[JobFields.InputFileId] ?? throw new InvalidOperationException($"Job {job.Id} has no input file.");
        var requests = new List<ReadOnlyMemory<byte>>((int)Math.Min(chunk.Count, 100_000));
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        await using var writer = new System.Text.Json.Utf8JsonWriter(buffer);
        var lines = chunk.IsList
            ? files.ReadLinesAsync(inputFileId, await chunks.ReadLineIndexesAsync(chunk), ct)
            : Indexed(files.ReadLinesAsync(inputFileId, chunk.First, chunk.Count, ct), chunk.First);
        await foreach (var (index, line) in lines)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            var json = line.Span.StartsWith("\uFEFF"u8) ? line[3..] : line;
            using var document = System.Text.Json.JsonDocument.Parse(json);
            if (!AnthropicRequestTranslator.TryTranslate(document.RootElement, writer, out _, model, index.ToString(CultureInfo.InvariantCulture)))
                return null;
            await writer.FlushAsync(ct);
            requests.Add(buffer.WrittenMemory.ToArray());
        }
        return requests;

        static async IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> Indexed(IAsyncEnumerable<ReadOnlyMemory<byte>> lines, long first)
        {
            var index = first;
            await foreach (var line in lines) yield return (index++, line);
        }
    }

    /// <summary>
    /// Streams the chunk's lines to the provider's Files API; with a route's <paramref name="model"/> other than the job's,
    /// each line goes out with <c>body.model</c> replaced (<see cref="LineModelRewriter"/>), else byte for byte as stored.
    /// </summary>
    private async Task<string> UploadAsync(RoutedProvider provider, ChunkRecord chunk, JobRecord job, string? model, CancellationToken ct)
    {
        var inputFileId = job[JobFields.InputFileId] ?? throw new InvalidOperationException($"Job {job.Id} has no input file.");
        IAsyncEnumerable<ReadOnlyMemory<byte>> lines = chunk.IsList
            ? Lines(files.ReadLinesAsync(inputFileId, await chunks.ReadLineIndexesAsync(chunk), ct))
            : files.ReadLinesAsync(inputFileId, chunk.First, chunk.Count, ct);
        if (model is not null && model != job[JobFields.Model]) lines = Renamed(lines, new LineModelRewriter(model));
        await using var stream = new ChunkLineStream(lines, ct);
        using var activity = SubmitterTelemetry.Source.StartActivity("upload chunk");
        activity?.SetTag(TelemetryTags.ChunkId, chunk.Id);
        var fileId = await provider.Commands!.UploadAsync(stream, $"{chunk.Id}.jsonl", ct);
        telemetry.UploadedBytes.Add(stream.BytesRead);
        if (stream.LinesRead != chunk.Count)
            throw new InvalidOperationException($"Chunk {chunk.Id} streamed {stream.LinesRead} lines, expected {chunk.Count}.");
        return fileId;

        static async IAsyncEnumerable<ReadOnlyMemory<byte>> Lines(IAsyncEnumerable<(long Index, ReadOnlyMemory<byte> Line)> indexed)
        {
            await foreach (var (_, line) in indexed) yield return line;
        }

        // The rewritten line lives in the rewriter's buffer until the next one is asked for: the upload stream copies
        // each line out before it asks for the next (ChunkLineStream), as it does with the store's own line memory.
        static async IAsyncEnumerable<ReadOnlyMemory<byte>> Renamed(IAsyncEnumerable<ReadOnlyMemory<byte>> lines, LineModelRewriter rewriter)
        {
            await foreach (var line in lines) yield return rewriter.Rewrite(line);
        }
    }

    private async Task<SubmitOutcome> RecordAsync(ChunkRecord chunk, RoutedProvider provider, ProviderBatchSnapshot batch, string fileId, bool recovered,
        IPublishEndpoint publish, CancellationToken ct)
    {
        var record = await chunks.RecordSubmissionAsync(chunk.Id, batch.Id, fileId, batch.Status);
        if (record.Result != RecordResult.Recorded || record.JobStopping)
        {
            // Not needed: the chunk was closed by a cancel, another batch was recorded, or the job is stopping.
            logger.OrphanBatch(batch.Id, chunk.Id);
            await stopper.TryCancelAsync(provider.Name, batch.Id, ct);
            if (record.Result == RecordResult.OtherBatchRecorded) return await EnsureScheduledAsync(chunk.Id);
            if (record.Result == RecordResult.ChunkClosed) return await AnnounceClosedAsync(chunk.Id, publish, ct);
        }
        await pollSchedule.ScheduleAsync(chunk.Id, time.GetUtcNow() + _options.FirstPollDelay);
        Activity.Current?.SetTag(TelemetryTags.ProviderBatchId, batch.Id);
        if (recovered) logger.ProviderBatchRecovered(chunk.Id, batch.Id);
        else logger.ProviderBatchCreated(batch.Id, chunk.Id, chunk.Attempt);
        return recovered ? SubmitOutcome.Recovered : SubmitOutcome.Created;
    }

    /// <summary>A chunk that has its provider batch: make sure it is scheduled for polling and off the delayed list (both idempotent).</summary>
    private async Task<SubmitOutcome> EnsureScheduledAsync(string chunkId)
    {
        await pollSchedule.ScheduleAsync(chunkId, time.GetUtcNow() + _options.FirstPollDelay);
        await chunks.UndelayAsync(chunkId);
        return SubmitOutcome.AlreadySubmitted;
    }

    /// <summary>A closed chunk never gets a batch; results learns it is done from <see cref="ChunkClosed"/>.</summary>
    private async Task<SubmitOutcome> AnnounceClosedAsync(string chunkId, IPublishEndpoint publish, CancellationToken ct)
    {
        await chunks.UndelayAsync(chunkId);
        await publish.Publish(new ChunkClosed { JobId = ChunkIds.JobOf(chunkId), ChunkId = chunkId }, ct);
        return SubmitOutcome.Closed;
    }

    private async Task<SubmitOutcome> CloseForStopAsync(string chunkId, IPublishEndpoint publish, CancellationToken ct)
    {
        var job = await jobs.GetAsync(ChunkIds.JobOf(chunkId), ct);
        var why = job?[JobFields.ExpiringAt] is not null || job?.Status == JobStatus.Expired ? JobStopper.Expiry : JobStopper.Cancel;
        var closed = await chunks.CloseIfUnsubmittedAsync(chunkId, why.Reason, why.Status);
        if (closed.Result == CloseResult.Submitted) return await EnsureScheduledAsync(chunkId);
        logger.ChunkClosed(chunkId, why.Reason);
        return await AnnounceClosedAsync(chunkId, publish, ct);
    }

    /// <summary>The provider will never take this chunk as it is: close it as failed so results retries or ends its requests.</summary>
    private Task<SubmitOutcome> RejectAsync(string chunkId, ProviderCallException exception, IPublishEndpoint publish, CancellationToken ct) =>
        RejectAsync(chunkId, exception.Status, exception.ErrorCode ?? "batch_rejected", publish, ct);

    private async Task<SubmitOutcome> RejectAsync(string chunkId, int status, string code, IPublishEndpoint publish, CancellationToken ct)
    {
        logger.Rejected(chunkId, status, code);
        var closed = await chunks.CloseIfUnsubmittedAsync(chunkId, code, JobStatus.Failed);
        if (closed.Result == CloseResult.Submitted) return await EnsureScheduledAsync(chunkId);
        return await AnnounceClosedAsync(chunkId, publish, ct);
    }

    /// <summary>A refusal (429, an upload that failed): the chunk is due again after the growing refusal wait.</summary>
    private async Task<SubmitOutcome> DelayAsync(string chunkId, int status)
    {
        var delay = await chunks.DelayAsync(chunkId, _options.RefusalDelay, _options.MaxRefusalDelay, countRefusal: true);
        logger.Refused(chunkId, status, delay);
        return SubmitOutcome.Refused;
    }

    private SubmitOutcome Busy(string chunkId)
    {
        // The lease holder's watchdog entry in ba:chunks:delayed brings the chunk back if that holder dies.
        logger.ChunkBusy(chunkId);
        return SubmitOutcome.Busy;
    }

    // Anthropic's message batches carry no metadata to find a lost create by: its chunks are created again (docs/providers.md).
    private Task<ProviderBatchSnapshot?> LookUpAsync(RoutedProvider provider, IReadOnlyDictionary<string, string> metadata, long sinceMs,
        CancellationToken ct) =>
        provider.Commands is { } commands
            ? commands.FindBatchAsync(metadata, DateTimeOffset.FromUnixTimeMilliseconds(sinceMs), _options.LookupMaxPages, _options.LookupPageSize, ct)
            : Task.FromResult<ProviderBatchSnapshot?>(null);

    private async Task<ProviderBatchSnapshot?> TryLookUpAsync(RoutedProvider provider, IReadOnlyDictionary<string, string> metadata, long sinceMs,
        CancellationToken ct)
    {
        try
        {
            return await LookUpAsync(provider, metadata, sinceMs, ct);
        }
        catch (Exception exception) when (exception is ProviderCallException || IsUnanswered(exception, ct))
        {
            return null;   // the next try looks again before creating
        }
    }

    private async Task RenewAsync(string chunkId, string token, CancellationTokenSource leaseLost, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.SubmitLease / 3, time, stop);
                if (!await chunks.RenewSubmitLeaseAsync(chunkId, token, _options.SubmitLease))
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The metadata naming a chunk's provider batch: job, chunk and attempt (how a lost create is found again).</summary>
    public static Dictionary<string, string> Metadata(ChunkRecord chunk) => new(StringComparer.Ordinal)
    {
        [ChunkMetadata.Job] = chunk.JobId,
        [ChunkMetadata.Chunk] = chunk.Id,
        [ChunkMetadata.Attempt] = chunk.Attempt.ToString(CultureInfo.InvariantCulture),
    };

    // The provider may or may not have acted. A cancellation that ct did not cause is a timeout (or the lease lapsed);
    // one it caused is our own shutdown, which the rule cannot tell apart.
    private static bool IsUnanswered(Exception exception, CancellationToken ct) =>
        FaultRule.Classify(exception) == FaultKind.NoAnswer || (exception is OperationCanceledException && !ct.IsCancellationRequested);
}
