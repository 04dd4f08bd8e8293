using System.Collections.Concurrent;
using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Redis;
using BatchAspire.Providers;
using BatchAspire.Submitter.Submitting;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.Submitter.Tests;

/// <summary>The submitter alone (no poller): plans, uploads and creates against the Sandbox, and never creates twice.</summary>
public sealed class SubmitterTests(RedisFixture redis) : IAsyncLifetime
{
    private readonly ConcurrentQueue<long?> _uploadLengths = new();
    private readonly DropResponses _dropCreates = new();
    private SandboxServer _sandbox = null!;
    private PipelineHost _pipeline = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sandbox = SandboxServer.Start();
        _pipeline = await PipelineHost.StartAsync(redis, _sandbox,
            new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "1000" },
            withPoller: false,
            providerHandler: () => new ProviderTap(_uploadLengths, _dropCreates));
    }

    public async ValueTask DisposeAsync()
    {
        await _pipeline.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task JobAcceptedPlansByTheLineLimitAndStreamsEachChunk()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(2_500), Ct);

        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await WaitUntilSubmittedAsync(job.JobId, 3);

        var chunks = await ChunksAsync(job.JobId);
        Assert.Equal([(0L, 1000L), (1000L, 1000L), (2000L, 500L)], chunks.Select(c => (c.First, c.Count)));
        Assert.All(chunks, c => Assert.Equal(1, c.Attempt));
        Assert.All(chunks, c => Assert.NotNull(c.ProviderFileId));
        Assert.False(await _pipeline.Db.SortedSetScoreAsync(RedisKeys.ValidatingJobs, job.JobId) is not null);
        Assert.NotNull(await _pipeline.Db.SortedSetScoreAsync(RedisKeys.OpenJobs, job.JobId));
        Assert.All(chunks, c => Assert.NotNull(_pipeline.Db.SortedSetScore(RedisKeys.PollDue, c.Id)));
        // A stream of unknown length goes out chunked: the SDK never saw a whole-chunk buffer.
        Assert.NotEmpty(_uploadLengths);
        Assert.All(_uploadLengths, length => Assert.Null(length));
        var batches = await _sandbox.BatchesOfJobAsync(job.JobId, Ct);
        Assert.Equal(chunks.Select(c => c.ProviderBatchId).Order(), batches.Select(b => b.GetProperty("id").GetString()).Order());
        Assert.All(batches, b => Assert.Equal("1", b.GetProperty("metadata").GetProperty(ChunkMetadata.Attempt).GetString()));
    }

    [Fact]
    public async Task ForcedByteLimitSplitsWhereTheNextLineWouldNotFit()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, _sandbox,
            new Dictionary<string, string?> { ["Submitter:MaxBytesPerChunk"] = "1000" }, withPoller: false);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(10), Ct);
        var lineBytes = PipelineJsonl.Request(0).Length + 1;

        await pipeline.Services.GetRequiredService<JobPlanning>().PlanAsync(job.JobId, pipeline.Bus, Ct);

        var chunks = new List<ChunkRecord>();
        foreach (var id in await pipeline.Chunks.ListAsync(job.JobId)) chunks.Add((await pipeline.Chunks.GetAsync(id))!);
        var perChunk = 1000 / lineBytes;
        Assert.Equal(Enumerable.Range(0, (10 + perChunk - 1) / perChunk).Select(i => (long)i * perChunk), chunks.Select(c => c.First));
        Assert.All(chunks.SkipLast(1), c => Assert.Equal(perChunk, c.Count));
    }

    [Fact]
    public async Task RedeliveredJobAcceptedChangesNothing()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(2_500), Ct);
        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await WaitUntilSubmittedAsync(job.JobId, 3);
        var before = await ChunksAsync(job.JobId);
        var readyBefore = await CountAsync<ChunkReady>(job.JobId);

        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        await PipelineHost.WaitUntilAsync(() => Task.FromResult(_pipeline.Harness.Consumed.Select<JobAccepted>(m => m.Context.Message.JobId == job.JobId).Count() == 2),
            TimeSpan.FromSeconds(20), "the second JobAccepted to be consumed");

        var after = await ChunksAsync(job.JobId);
        Assert.Equal(before.Select(c => (c.Id, c.ProviderBatchId, c.ProviderFileId)), after.Select(c => (c.Id, c.ProviderBatchId, c.ProviderFileId)));
        Assert.Equal(readyBefore, await CountAsync<ChunkReady>(job.JobId));
        Assert.Equal(3, (await _sandbox.BatchesOfJobAsync(job.JobId, Ct)).Count);
        Assert.False(await _pipeline.Harness.Published.Any<MassTransit.Fault<JobAccepted>>(Ct));
    }

    [Fact]
    public async Task ChunkReadyDeliveredThreeTimesAtOnceCreatesOneBatch()
    {
        var (job, chunkId) = await PlannedChunkAsync(300);
        var submitter = _pipeline.Services.GetRequiredService<ChunkSubmitter>();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => submitter.SubmitAsync(chunkId, _pipeline.Bus, Ct)));
        await _pipeline.Bus.Publish(new ChunkReady { JobId = job.JobId, ChunkId = chunkId }, Ct);
        await PipelineHost.WaitUntilAsync(async () => await _pipeline.Harness.Consumed.Any<ChunkReady>(m => m.Context.Message.ChunkId == chunkId, Ct),
            TimeSpan.FromSeconds(20), "the redelivered ChunkReady to be consumed");

        Assert.Equal(1, outcomes.Count(o => o == SubmitOutcome.Created));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { SubmitOutcome.Created, SubmitOutcome.Busy, SubmitOutcome.AlreadySubmitted }));
        var batches = await _sandbox.BatchesOfJobAsync(job.JobId, Ct);
        Assert.Single(batches);
        Assert.Equal(batches[0].GetProperty("id").GetString(), (await _pipeline.Chunks.GetAsync(chunkId))!.ProviderBatchId);
    }

    [Fact]
    public async Task CreateAnsweredButLostIsFoundByMetadataInsteadOfCreatedAgain()
    {
        var (job, chunkId) = await PlannedChunkAsync(200);
        _dropCreates.DropNext(job.JobId);

        var outcome = await _pipeline.Services.GetRequiredService<ChunkSubmitter>().SubmitAsync(chunkId, _pipeline.Bus, Ct);

        Assert.Equal(SubmitOutcome.Recovered, outcome);
        Assert.Equal(1, _dropCreates.Dropped);
        var batches = await _sandbox.BatchesOfJobAsync(job.JobId, Ct);
        Assert.Single(batches);
        Assert.Equal(batches[0].GetProperty("id").GetString(), (await _pipeline.Chunks.GetAsync(chunkId))!.ProviderBatchId);
    }

    [Fact]
    public async Task RedeliveryAfterACrashBetweenCreateAndRecordReusesTheBatch()
    {
        var (job, chunkId) = await PlannedChunkAsync(200);
        var chunk = (await _pipeline.Chunks.GetAsync(chunkId))!;
        // What a submitter that died right after its create left behind: a batch at the provider, create_started in Redis.
        var provider = _pipeline.Services.GetRequiredService<ProviderBatchCommands>();
        string fileId;
        await using (var content = new MemoryStream(PipelineJsonl.File(200)))
        {
            fileId = await provider.UploadAsync(content, $"{chunkId}.jsonl", Ct);
        }
        var orphan = await provider.CreateBatchAsync(fileId, PipelineJsonl.Endpoint, ChunkSubmitter.Metadata(chunk), Ct);
        await _pipeline.Db.HashSetAsync(RedisKeys.Chunk(chunkId), ChunkFields.CreateStartedAtMs, DateTimeOffset.UtcNow.AddSeconds(-2).ToUnixTimeMilliseconds());

        await _pipeline.Bus.Publish(new ChunkReady { JobId = job.JobId, ChunkId = chunkId }, Ct);
        await PipelineHost.WaitUntilAsync(async () => (await _pipeline.Chunks.GetAsync(chunkId))!.ProviderBatchId is not null,
            TimeSpan.FromSeconds(20), "the chunk to be recorded");

        Assert.Equal(orphan.Id, (await _pipeline.Chunks.GetAsync(chunkId))!.ProviderBatchId);
        Assert.Single(await _sandbox.BatchesOfJobAsync(job.JobId, Ct));
        // The poller learns of the batch from the schedule, not from a message.
        Assert.NotNull(await _pipeline.Db.SortedSetScoreAsync(RedisKeys.PollDue, chunkId));
    }

    private async Task<(TestJob Job, string ChunkId)> PlannedChunkAsync(int lines)
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(lines), Ct);
        await _pipeline.Chunks.PlanAsync(job.JobId, lines, [new PlannedChunk(0, lines, 0)]);
        return (job, ChunkIds.Create(job.JobId, 0));
    }

    private async Task WaitUntilSubmittedAsync(string jobId, int chunks) =>
        await PipelineHost.WaitUntilAsync(async () =>
        {
            var all = await ChunksAsync(jobId);
            return all.Count == chunks && all.All(c => c.ProviderBatchId is not null);
        }, TimeSpan.FromSeconds(30), $"{chunks} chunks of {jobId} to be submitted");

    private async Task<List<ChunkRecord>> ChunksAsync(string jobId)
    {
        var list = new List<ChunkRecord>();
        foreach (var id in await _pipeline.Chunks.ListAsync(jobId)) list.Add((await _pipeline.Chunks.GetAsync(id))!);
        return list;
    }

    private Task<int> CountAsync<T>(string jobId) where T : class =>
        Task.FromResult(_pipeline.Harness.Published.Select<ChunkReady>(m => m.Context.Message.JobId == jobId).Count());

    /// <summary>Records upload request lengths and, on request, lets a create reach the provider but loses its answer.</summary>
    private sealed class ProviderTap(ConcurrentQueue<long?> uploadLengths, DropResponses drop) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            if (request.Method == HttpMethod.Post && path.EndsWith("/files", StringComparison.Ordinal))
                uploadLengths.Enqueue(request.Content?.Headers.ContentLength);
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method == HttpMethod.Post && path.EndsWith("/batches", StringComparison.Ordinal) && drop.TakeDrop())
            {
                response.Dispose();
                throw new HttpRequestException("The connection was reset after the request was sent (test).");
            }
            return response;
        }
    }

    private sealed class DropResponses
    {
        private int _pending;
        public int Dropped;

        public void DropNext(string jobId) => Interlocked.Exchange(ref _pending, 1);

        public bool TakeDrop()
        {
            if (Interlocked.Exchange(ref _pending, 0) == 0) return false;
            Interlocked.Increment(ref Dropped);
            return true;
        }
    }
}
