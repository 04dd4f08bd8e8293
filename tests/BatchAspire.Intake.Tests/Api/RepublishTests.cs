using BatchAspire.Contracts;
using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using MassTransit.Testing;
using static BatchAspire.Intake.Tests.Api.Wire;

namespace BatchAspire.Intake.Tests.Api;

/// <summary>An intake that re-publishes after one second, looking every 200 ms.</summary>
public sealed class RepublishTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;
    private IntakeApp _app = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await fixture.IsolatedAsync(Ct);
        _app = new IntakeApp(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Intake:RepublishAfter"] = "00:00:01",
            ["Intake:RepublishInterval"] = "00:00:00.2",
        });
        _ = _app.Server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task JobLeftValidatingAfterACrashIsPublishedAgain()
    {
        // What a crash between the Redis write and the publish leaves behind: a stored job, no message.
        var jobs = new RedisJobStore(_redis.Multiplexer, new ManualClock(DateTimeOffset.UtcNow.AddMinutes(-1)));
        var jobId = JobIds.New();
        await jobs.CreateAsync(NewJob(jobId), ct: Ct);

        await WaitUntilAsync(() => _app.Harness.Published.Select<JobAccepted>(Ct).Any(m => m.Context.Message.JobId == jobId));
    }

    [Fact]
    public async Task JobThatMovedOnIsNotPublishedAgain()
    {
        var jobs = new RedisJobStore(_redis.Multiplexer, new ManualClock(DateTimeOffset.UtcNow.AddDays(1)));
        var jobId = JobIds.New();
        // Listed as validating from tomorrow, so no sweep takes it before it has moved on.
        await jobs.CreateAsync(NewJob(jobId), ct: Ct);
        // A job that has moved on but is still listed: the sweep drops it without publishing.
        await _redis.Multiplexer.GetDatabase().HashSetAsync(RedisKeys.Job(jobId), JobFields.Status, JobStatus.InProgress);
        await _redis.Multiplexer.GetDatabase().SortedSetAddAsync(RedisKeys.ValidatingJobs, jobId, 0);

        await WaitUntilAsync(() => _redis.Multiplexer.GetDatabase().SortedSetScore(RedisKeys.ValidatingJobs, jobId) is null);

        Assert.DoesNotContain(_app.Harness.Published.Select<JobAccepted>(Ct), m => m.Context.Message.JobId == jobId);
    }

    private static NewJob NewJob(string jobId) =>
        new(jobId, "tenant-1", "/v1/chat/completions", "file-input", "24h", 1_700_000_000, 1_700_086_400, 1);
}
