using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Core.Tenants;
using MassTransit.Testing;

namespace BatchAspire.Results.Tests;

/// <summary>Whole jobs through submitter, poller and results against the in-process Sandbox.</summary>
public sealed class PipelineTests(RedisFixture redis) : IAsyncLifetime
{
    private SandboxServer _sandbox = null!;
    private PipelineHost _pipeline = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _sandbox = SandboxServer.Start();
        _pipeline = await PipelineHost.StartAsync(redis, _sandbox, new Dictionary<string, string?> { ["Submitter:MaxLinesPerChunk"] = "1000" });
    }

    public async ValueTask DisposeAsync()
    {
        await _pipeline.DisposeAsync();
        await _sandbox.DisposeAsync();
    }

    [Fact]
    public async Task JobCompletesWithEveryAnswerOnceInInputOrder()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(2_500), Ct);

        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await _pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobStatus.Completed, ended.Status);
        Assert.Null(ended[JobFields.ErrorFileId]);
        Assert.Equal(2_500, ended.GetInt64(JobFields.RequestCompleted));
        Assert.Equal(0, ended.GetInt64(JobFields.RequestFailed));
        Assert.NotNull(ended[JobFields.CompletedAt]);
        Assert.NotNull(ended[JobFields.FinalizingAt]);
        Assert.True(ended.GetInt64(JobFields.InputTokens) > 0);
        Assert.True(ended.GetDouble(JobFields.CostBatchUsd) > 0);
        Assert.Equal(ended.GetDouble(JobFields.CostStandardUsd)!.Value / 2, ended.GetDouble(JobFields.CostBatchUsd)!.Value, 12);
        var output = await _pipeline.ReadFileAsync(ended[JobFields.OutputFileId]);
        ResultFiles.AssertEveryRequestOnceInInputOrder(2_500, output, []);
        Assert.All(output, line => Assert.Equal(200, ResultFiles.StatusCode(line)));
        // The output file expires like any file, and the expired-file sweeper finds it by its expiry.
        var outputExpiresAt = (long)await _pipeline.Db.HashGetAsync(RedisKeys.File(ended[JobFields.OutputFileId]!), FileFields.ExpiresAt);
        Assert.Equal(outputExpiresAt, await _pipeline.Db.SortedSetScoreAsync(RedisKeys.ExpiringFiles, ended[JobFields.OutputFileId]));
        Assert.Equal(3, (await _pipeline.Chunks.ListAsync(job.JobId)).Count);
        var providerBatches = await _sandbox.BatchesOfJobAsync(job.JobId, Ct);
        Assert.Equal(3, providerBatches.Count);
        Assert.Equal(0, await _pipeline.Db.SortedSetLengthAsync(RedisKeys.OpenJobs));
        // Once a chunk's results are stored its files at the provider are deleted (right after, not before, the job ends).
        var providerFiles = providerBatches.SelectMany(b => new[] { b.GetProperty("input_file_id").GetString()!, b.GetProperty("output_file_id").GetString()! }).ToList();
        Assert.Equal(6, providerFiles.Distinct().Count());
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline && (await Task.WhenAll(providerFiles.Select(f => _sandbox.HasFileAsync(f, Ct)))).Any(has => has))
            await Task.Delay(100, Ct);
        Assert.All(await Task.WhenAll(providerFiles.Select(f => _sandbox.HasFileAsync(f, Ct))), Assert.False);
        // The job's blobs are its output file's parts (its result runs, taken whole), nothing else and nothing listed.
        var parts = LinePart.ParseAll(await _pipeline.Db.HashGetAsync(RedisKeys.File(ended[JobFields.OutputFileId]!), FileFields.Parts));
        var blobPrefixes = (await _pipeline.Blobs.NamesAsync($"jobs/{job.JobId}/")).Select(n => n[..n.LastIndexOf('.')]).Distinct();
        Assert.Equal(parts.Select(p => p.Prefix).Order(), blobPrefixes.Order());
        Assert.Equal(0, await _pipeline.Db.SortedSetLengthAsync(RedisKeys.BlobsToDelete));
        // The tenant's usage: the job is no longer open work; its input and output files are stored.
        var usage = await TenantUsage.ReadAsync(_pipeline.Db, job.Tenant);
        var inputBytes = (await _pipeline.Files.GetAsync(job.InputFileId, Ct))!.Bytes;
        var outputBytes = (await _pipeline.Files.GetAsync(ended[JobFields.OutputFileId]!, Ct))!.Bytes;
        Assert.Equal(0, usage[TenantUsage.OpenBatches]);
        Assert.Equal(0, usage[TenantUsage.PendingRequests]);
        Assert.Equal(2, usage[TenantUsage.Files]);
        Assert.Equal(inputBytes + outputBytes, usage[TenantUsage.StoredBytes]);
    }

    [Fact]
    public async Task AProviderFileWhoseDeleteFailedStaysListedAndIsDeletedOnceTheProviderAnswersAgain()
    {
        _sandbox.SetFaults(f => { f.ApiFail500Rate = 1; f.ApiFailMethod = "DELETE"; });
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);

        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        Assert.Equal(JobStatus.Completed, (await _pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60))).Status);
        var batch = Assert.Single(await _sandbox.BatchesOfJobAsync(job.JobId, Ct));
        string[] providerFiles = [batch.GetProperty("input_file_id").GetString()!, batch.GetProperty("output_file_id").GetString()!];
        // Every DELETE fails: several tries later (the retry delay is 0.3 s here) both files are still there, and listed.
        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        Assert.All(await Task.WhenAll(providerFiles.Select(f => _sandbox.HasFileAsync(f, Ct))), Assert.True);
        Assert.All(providerFiles, f => Assert.NotNull(_pipeline.Db.SortedSetScore(RedisKeys.ProviderFilesToDelete, f)));

        _sandbox.SetFaults(_ => { });

        await PipelineHost.WaitUntilAsync(async () => await _pipeline.Db.SortedSetLengthAsync(RedisKeys.ProviderFilesToDelete) == 0,
            TimeSpan.FromSeconds(15), "the provider files to leave the deletion list");
        Assert.All(await Task.WhenAll(providerFiles.Select(f => _sandbox.HasFileAsync(f, Ct))), Assert.False);
    }

    [Fact]
    public async Task JobOf120000RequestsRunsAsThreeChunksAtTheDefaultLimitWithEveryCustomIdOnce()
    {
        await using var pipeline = await PipelineHost.StartAsync(redis, _sandbox);
        var job = await pipeline.CreateJobAsync(PipelineJsonl.File(120_000), Ct);

        await pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(120));

        Assert.Equal(JobStatus.Completed, ended.Status);
        var chunks = await pipeline.Chunks.ListAsync(job.JobId);
        Assert.Equal(3, chunks.Count);
        var counts = await Task.WhenAll(chunks.Select(async id => (await pipeline.Chunks.GetAsync(id))!.Count));
        Assert.Equal(new long[] { 50_000, 50_000, 20_000 }, counts);
        ResultFiles.AssertEveryRequestOnceInInputOrder(120_000,
            await pipeline.ReadFileAsync(ended[JobFields.OutputFileId]), await pipeline.ReadFileAsync(ended[JobFields.ErrorFileId]));
    }

    [Fact]
    public async Task RedeliveredChunkFinishedChangesNothing()
    {
        var job = await _pipeline.CreateJobAsync(PipelineJsonl.File(300), Ct);
        await _pipeline.Bus.Publish(new JobAccepted { JobId = job.JobId }, Ct);
        var ended = await _pipeline.WaitForEndAsync(job.JobId, TimeSpan.FromSeconds(60));
        var chunkId = (await _pipeline.Chunks.ListAsync(job.JobId)).Single();
        var chunk = (await _pipeline.Chunks.GetAsync(chunkId))!;
        var before = await _pipeline.Db.HashGetAllAsync(RedisKeys.Job(job.JobId));

        var again = new ChunkFinished { JobId = job.JobId, ChunkId = chunkId, ProviderBatchId = chunk.ProviderBatchId!, ProviderStatus = "completed" };
        await _pipeline.Bus.Publish(again, Ct);
        await _pipeline.Bus.Publish(again, Ct);
        await PipelineHost.WaitUntilAsync(() => Task.FromResult(_pipeline.Harness.Consumed.Select<ChunkFinished>(m => m.Context.Message.ChunkId == chunkId).Count() >= 3),
            TimeSpan.FromSeconds(20), "the redeliveries to be consumed");

        var after = await _pipeline.Db.HashGetAllAsync(RedisKeys.Job(job.JobId));
        Assert.Equal(before.OrderBy(e => e.Name.ToString()).Select(e => e.ToString()), after.OrderBy(e => e.Name.ToString()).Select(e => e.ToString()));
        Assert.Single(await _pipeline.Chunks.ListAsync(job.JobId));
        Assert.Equal("300", (await _pipeline.Chunks.GetAsync(chunkId))![ChunkFields.OutputRun]!.Split(' ')[1]);
        Assert.Empty(await _pipeline.Redis.KeysAsync($"ba:{{{job.JobId}}}:run:*"));
        Assert.False(await _pipeline.Harness.Published.Any<MassTransit.Fault<ChunkFinished>>(Ct));
        Assert.Equal(JobStatus.Completed, ended.Status);
    }
}
