using BatchAspire.Core.Files;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Jsonl;
using BatchAspire.Core.Tenants;
using BatchAspire.Core.Webhooks;

namespace BatchAspire.Core.Tests.Jobs;

public sealed class JobStoreTests(RedisFixture fixture) : IAsyncLifetime
{
    // The sweeps claim from global sets (validating, cancelling jobs): each test has a database of its own.
    private IsolatedRedis _redis = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _redis = await fixture.IsolatedAsync(Ct);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task AnAcceptedJobIsStoredValidatingListedForItsTenantAndCountedAsOpenWork()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var db = _redis.Multiplexer.GetDatabase();
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();

        var returned = await store.CreateAsync(NewJob(jobId, tenant) with { Model = "gpt-x", MetadataJson = "{\"k\":\"v\"}" }, ct: Ct);

        var stored = (await store.GetAsync(jobId, Ct))!;
        Assert.Equal(stored.Fields.OrderBy(f => f.Key), returned.Fields.OrderBy(f => f.Key));
        Assert.Equal(JobStatus.Validating, stored.Status);
        Assert.Equal(tenant, stored.Tenant);
        Assert.Equal(3, stored.GetInt64(JobFields.RequestTotal));
        Assert.Equal(0, stored.GetInt64(JobFields.RequestCompleted));
        Assert.Equal("gpt-x", stored[JobFields.Model]);
        Assert.Equal("{\"k\":\"v\"}", stored[JobFields.Metadata]);
        Assert.Null(stored[JobFields.OutputExpiresAfterSeconds]);
        Assert.Equal(stored.GetInt64(JobFields.Sequence), (long?)await db.SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.TenantBatches(tenant), jobId));
        Assert.NotNull(await db.SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.ValidatingJobs, jobId));
        var usage = await TenantUsage.ReadAsync(db, tenant);
        Assert.Equal(1, usage[TenantUsage.OpenBatches]);
        Assert.Equal(3, usage[TenantUsage.PendingRequests]);
        Assert.Null(await new WebhookEvents(_redis.Multiplexer).GetAsync(jobId));
    }

    [Fact]
    public async Task AJobWhoseFileFailedTheChecksIsStoredFailedWithItsErrorsAndCountsNothing()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var db = _redis.Multiplexer.GetDatabase();
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();

        await store.CreateFailedAsync(NewJob(jobId, tenant), [LineError.InvalidJson(2)], Ct);

        var stored = (await store.GetAsync(jobId, Ct))!;
        Assert.Equal(JobStatus.Failed, stored.Status);
        Assert.Equal(1_700_000_000, stored.GetInt64(JobFields.FailedAt));
        Assert.Equal(0, stored.GetInt64(JobFields.RequestTotal));
        Assert.Equal(LineError.InvalidJson(2), Assert.Single(FileAnalysis.ReadErrors(stored[JobFields.Errors])));
        Assert.NotNull(await db.SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.TenantBatches(tenant), jobId));
        Assert.Null(await db.SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.ValidatingJobs, jobId));
        Assert.Empty(await TenantUsage.ReadAsync(db, tenant));
    }

    [Fact]
    public async Task AJobThatFailedTheChecksRecordsItsBatchFailedWebhookEventDueAtOnce()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();

        await store.CreateFailedAsync(NewJob(jobId, tenant), [LineError.InvalidJson(2)], Ct);

        var events = new WebhookEvents(_redis.Multiplexer);
        var stored = await events.GetAsync(jobId);
        Assert.NotNull(stored);
        Assert.Equal("evt_" + jobId["batch_".Length..], stored.Id);
        Assert.Equal(WebhookEventFields.TypeFailed, stored.Type);
        Assert.Equal(tenant, stored.Tenant);
        Assert.Equal(0, stored.Attempts);
        Assert.Empty(stored.DeliveredTo);
        var claim = await events.ClaimAsync(10, TimeSpan.FromSeconds(30));
        Assert.Equal(jobId, Assert.Single(claim.Members).Id);
    }

    [Fact]
    public async Task AJobPastTheTenantsOpenBatchQuotaIsRefusedAndWritesNothing()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var db = _redis.Multiplexer.GetDatabase();
        var tenant = RedisFixture.NewTenant();
        var quota = new TenantQuota { MaxOpenBatches = 1 };
        await store.CreateAsync(NewJob(JobIds.New(), tenant), quota, Ct);
        var refused = JobIds.New();

        var error = await Assert.ThrowsAsync<QuotaExceededException>(() => store.CreateAsync(NewJob(refused, tenant), quota, Ct));

        Assert.Equal((QuotaLimit.OpenBatches, 1L, 1L), (error.Limit, error.Max, error.Used));
        Assert.Null(await store.GetAsync(refused, Ct));
        Assert.Equal(1, await db.SortedSetLengthAsync(BatchAspire.Core.Redis.RedisKeys.TenantBatches(tenant)));
        Assert.Equal(1, (await TenantUsage.ReadAsync(db, tenant))[TenantUsage.OpenBatches]);
    }

    [Fact]
    public async Task CancelMovesAnActiveJobToCancellingOnce()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();
        await store.CreateAsync(NewJob(jobId, tenant), ct: Ct);
        await MoveToInProgressAsync(jobId);

        var other = await store.RequestCancelAsync(RedisFixture.NewTenant(), jobId, 100, Ct);
        var first = await store.RequestCancelAsync(tenant, jobId, 100, Ct);
        var second = await store.RequestCancelAsync(tenant, jobId, 200, Ct);

        Assert.Equal(new CancelOutcome(false, null, false), other);
        Assert.Equal(new CancelOutcome(true, JobStatus.InProgress, true), first);
        Assert.Equal(new CancelOutcome(true, JobStatus.Cancelling, false), second);
        Assert.Equal(100, (await store.GetAsync(jobId, Ct))!.GetInt64(JobFields.CancellingAt));
    }

    [Fact]
    public async Task StaleValidatingJobIsClaimedOncePerBound()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(-1));
        var store = new RedisJobStore(_redis.Multiplexer, clock);
        var jobId = JobIds.New();
        await store.CreateAsync(NewJob(jobId, RedisFixture.NewTenant()), ct: Ct);
        clock.Now = clock.Now.AddMinutes(10);

        var first = await store.ClaimStaleValidatingAsync(clock.Now.AddMinutes(-5), 1000, Ct);
        var again = await store.ClaimStaleValidatingAsync(clock.Now.AddMinutes(-5), 1000, Ct);

        Assert.Contains(jobId, first);
        Assert.DoesNotContain(jobId, again);
    }

    [Fact]
    public async Task ACancelIsClaimedForSendingAgainOncePerBoundUntilTheJobIsCancelled()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(-3));
        var store = new RedisJobStore(_redis.Multiplexer, clock);
        var db = _redis.Multiplexer.GetDatabase();
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();
        await store.CreateAsync(NewJob(jobId, tenant), ct: Ct);
        await MoveToInProgressAsync(jobId);
        await store.RequestCancelAsync(tenant, jobId, clock.Now.ToUnixTimeSeconds(), Ct);
        clock.Now = clock.Now.AddMinutes(10);

        var first = await store.ClaimStaleCancellingAsync(clock.Now.AddMinutes(-5), 1000, Ct);
        var again = await store.ClaimStaleCancellingAsync(clock.Now.AddMinutes(-5), 1000, Ct);
        await db.HashSetAsync(BatchAspire.Core.Redis.RedisKeys.Job(jobId), JobFields.Status, JobStatus.Cancelled);
        clock.Now = clock.Now.AddMinutes(10);
        var afterCancelled = await store.ClaimStaleCancellingAsync(clock.Now.AddMinutes(-5), 1000, Ct);

        Assert.Contains(jobId, first);
        Assert.DoesNotContain(jobId, again);
        Assert.DoesNotContain(jobId, afterCancelled);
        Assert.Null(await db.SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.CancellingJobs, jobId));
    }

    [Fact]
    public async Task JobThatMovedOnLeavesTheValidatingSet()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow.AddDays(-2));
        var store = new RedisJobStore(_redis.Multiplexer, clock);
        var jobId = JobIds.New();
        await store.CreateAsync(NewJob(jobId, RedisFixture.NewTenant()), ct: Ct);
        await MoveToInProgressAsync(jobId);
        clock.Now = clock.Now.AddMinutes(10);

        var claimed = await store.ClaimStaleValidatingAsync(clock.Now.AddMinutes(-5), 1000, Ct);

        Assert.DoesNotContain(jobId, claimed);
        Assert.Null(await _redis.Multiplexer.GetDatabase().SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.ValidatingJobs, jobId));
    }

    // What planning does to a job (the poll schedule's move), as far as these tests need it.
    private Task MoveToInProgressAsync(string jobId) =>
        _redis.Multiplexer.GetDatabase().HashSetAsync(BatchAspire.Core.Redis.RedisKeys.Job(jobId), JobFields.Status, JobStatus.InProgress);

    private static NewJob NewJob(string jobId, string tenant) =>
        new(jobId, tenant, "/v1/chat/completions", "file-input", "24h", 1_700_000_000, 1_700_086_400, 3);
}
