using BatchAspire.Core.Jobs;
using BatchAspire.Core.Redis;
using BatchAspire.Testing;

namespace BatchAspire.Core.Tests.Jobs;

/// <summary>The status rules exist twice, in C# (JobStatus) and in the scripts' library (lib/job_status.lua): they must agree.</summary>
public sealed class JobStatusTests : IAsyncLifetime
{
    private LocalRedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await LocalRedisServer.StartAsync(TestContext.Current.CancellationToken);

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
        var terminal = (long)await _redis.Multiplexer.GetDatabase().ScriptEvaluateAsync(library + "\nreturn is_terminal(ARGV[1]) and 1 or 0", [], [status]);
        var stopping = (long)await _redis.Multiplexer.GetDatabase().ScriptEvaluateAsync(library + "\nreturn is_stopping(ARGV[1], false) and 1 or 0", [], [status]);

        Assert.Equal(JobStatus.IsTerminal(status), terminal == 1);
        Assert.Equal(JobStatus.IsTerminal(status) || status == JobStatus.Cancelling, stopping == 1);
    }
}
