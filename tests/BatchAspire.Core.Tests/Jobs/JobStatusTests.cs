using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Testing;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Jobs;

/// <summary>The status rules exist twice, in C# (JobStatus) and in the scripts' library (lib/job_status.lua): they must agree.</summary>
public sealed class JobStatusTests(RedisFixture fixture) : IAsyncLifetime
{
    private IsolatedRedis _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await fixture.IsolatedAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Theory]
    [InlineData(JobStatus.Validating)]
    [InlineData(JobStatus.InProgress)]
    [InlineData(JobStatus.Finalizing)]
    [InlineData(JobStatus.Cancelling)]
    [InlineData(JobStatus.Completed)]
    [InlineData(JobStatus.Failed)]
    [InlineData(JobStatus.Expired)]
    [InlineData(JobStatus.Cancelled)]
    public async Task TheScriptsAndJobStatusAgreeOnWhichStatusesAreTerminal(string status)
    {
        var library = RedisScript.Source(typeof(RedisScript).Assembly, "lib/job_status");
        var terminal = (long)await _redis.Db.ScriptEvaluateAsync(library + "\nreturn is_terminal(ARGV[1]) and 1 or 0", [], [status]);
        var stopping = (long)await _redis.Db.ScriptEvaluateAsync(library + "\nreturn is_stopping(ARGV[1], false) and 1 or 0", [], [status]);

        Assert.Equal(JobStatus.IsTerminal(status), terminal == 1);
        Assert.Equal(JobStatus.IsTerminal(status) || status == JobStatus.Cancelling, stopping == 1);
    }

    public static TheoryData<string, string, bool> Moves() => new()
    {
        { JobStatus.Validating, JobStatus.InProgress, true },
        { JobStatus.Validating, JobStatus.Cancelling, true },
        { JobStatus.InProgress, JobStatus.Finalizing, true },
        { JobStatus.InProgress, JobStatus.Validating, false },
        { JobStatus.Finalizing, JobStatus.InProgress, false },
        { JobStatus.Cancelling, JobStatus.Cancelled, true },
        { JobStatus.Cancelling, JobStatus.InProgress, false },
        { JobStatus.Completed, JobStatus.Cancelling, false },
        { JobStatus.Cancelled, JobStatus.Completed, false },
        { JobStatus.Failed, JobStatus.InProgress, false },
        { JobStatus.Expired, JobStatus.Cancelled, false },
    };

    [Theory]
    [MemberData(nameof(Moves))]
    public async Task AJobMovesOnlyAlongTheStatusTableAndStampsTheMoveOnce(string from, string to, bool allowed)
    {
        var script = RedisScript.Inline("""
            --#include lib/job.lua
            local from, moved = job_move(KEYS[1], ARGV[1], ARGV[2])
            return {from, moved and 1 or 0}
            """).Text;
        var db = _redis.Db;
        var key = "test:job:" + Guid.NewGuid().ToString("N");
        await db.HashSetAsync(key, [new("status", from)]);

        var reply = (RedisResult[])(await db.ScriptEvaluateAsync(script, [key], [to, 1_700_000_000]))!;

        Assert.Equal(from, (string?)reply[0]);
        Assert.Equal(allowed, (long)reply[1] == 1);
        Assert.Equal(allowed ? to : from, (string?)await db.HashGetAsync(key, "status"));
        Assert.Equal(allowed, await db.HashExistsAsync(key, to + "_at"));
    }

    [Theory]
    [InlineData(JobStatus.Validating, true)]
    [InlineData(JobStatus.Failed, true)]
    [InlineData(JobStatus.InProgress, false)]
    [InlineData(JobStatus.Finalizing, false)]
    [InlineData(JobStatus.Cancelling, false)]
    [InlineData(JobStatus.Completed, false)]
    [InlineData(JobStatus.Expired, false)]
    [InlineData(JobStatus.Cancelled, false)]
    public async Task AJobIsCreatedOnlyValidatingOrFailedAndAnyOtherStatusWritesNothing(string status, bool allowed)
    {
        var script = RedisScript.Inline("""
            --#include lib/job.lua
            job_create(KEYS[1], 7, ARGV[1], {'tenant', 't1'})
            return 1
            """).Text;
        var db = _redis.Db;
        var key = "test:job:" + Guid.NewGuid().ToString("N");

        var create = () => db.ScriptEvaluateAsync(script, [key], [status]);

        if (allowed)
        {
            await create();
            Assert.Equal(status, (string?)await db.HashGetAsync(key, "status"));
            Assert.Equal(7, (long)await db.HashGetAsync(key, "seq"));
        }
        else
        {
            await Assert.ThrowsAsync<RedisServerException>(create);
            Assert.False(await db.KeyExistsAsync(key));
        }
    }
}
