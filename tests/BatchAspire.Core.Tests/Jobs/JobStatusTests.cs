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
}
