using BatchAspire.Core.Jobs;

namespace BatchAspire.Core.Tests.Jobs;

public sealed class JobStoreTests(RedisFixture fixture) : IAsyncLifetime
{
    // The sweeps claim from global sets (validating, cancelling jobs): each test has a database of its own.
    private IsolatedRedis _redis = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _redis = await fixture.IsolatedAsync(Ct);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task CancelMovesAnActiveJobToCancellingOnce()
    {
        var store = new RedisJobStore(_redis.Multiplexer, TimeProvider.System);
        var tenant = RedisFixture.NewTenant();
        var jobId = JobIds.New();
        await store.CreateAsync(jobId, tenant, [new(JobFields.Status, JobStatus.InProgress)], ct: Ct);

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
        await store.CreateAsync(jobId, RedisFixture.NewTenant(), [new(JobFields.Status, JobStatus.Validating)], ct: Ct);
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
        await store.CreateAsync(jobId, tenant, [new(JobFields.Status, JobStatus.InProgress)], ct: Ct);
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
        await store.CreateAsync(jobId, RedisFixture.NewTenant(), [new(JobFields.Status, JobStatus.Validating)], ct: Ct);
        await _redis.Multiplexer.GetDatabase().HashSetAsync(BatchAspire.Core.Redis.RedisKeys.Job(jobId), JobFields.Status, JobStatus.InProgress);
        clock.Now = clock.Now.AddMinutes(10);

        var claimed = await store.ClaimStaleValidatingAsync(clock.Now.AddMinutes(-5), 1000, Ct);

        Assert.DoesNotContain(jobId, claimed);
        Assert.Null(await _redis.Multiplexer.GetDatabase().SortedSetScoreAsync(BatchAspire.Core.Redis.RedisKeys.ValidatingJobs, jobId));
    }
}
