using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Keeps background loops that find nothing out of the trace list. A poll claim or a sweeper round runs outside any
/// request or message, so each of its Redis commands (<c>EVAL</c>, <c>ZRANGEBYSCORE</c>, several a second per
/// replica) would otherwise be exported as a trace of its own and bury the job traces. A Redis command is sampled
/// only inside a trace that something else started: a request, a message, or a loop's span around work it found.
/// Every other span follows the default (its parent's decision, and always for a root).
/// </summary>
public sealed class IdleLoopSampler : Sampler
{
    /// <summary>The sampler to install: parent-based, with this one deciding for roots.</summary>
    public static Sampler Create() => new ParentBasedSampler(new IdleLoopSampler());

    private static readonly SamplingResult Drop = new(SamplingDecision.Drop);
    private static readonly SamplingResult Sample = new(SamplingDecision.RecordAndSample);

    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        IsRedisCommand(samplingParameters.Tags) ? Drop : Sample;

    /// <summary>The Redis instrumentation names its system in the tags it starts a span with (old and new conventions).</summary>
    private static bool IsRedisCommand(IEnumerable<KeyValuePair<string, object?>>? tags)
    {
        if (tags is null) return false;
        foreach (var (key, value) in tags)
        {
            if (key is "db.system" or "db.system.name" && value is "redis") return true;
        }
        return false;
    }
}
