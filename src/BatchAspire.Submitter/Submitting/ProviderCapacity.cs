using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace BatchAspire.Submitter.Submitting;

/// <summary>
/// Which routed providers refused a chunk lately (429 on upload or create), so the next chunks of a route go to its next
/// provider meanwhile. The wait grows like a chunk's refusal wait (<see cref="SubmitterOptions.RefusalDelay"/>, doubling
/// up to <see cref="SubmitterOptions.MaxRefusalDelay"/>) and ends at the provider's next accepted batch. Per replica, in
/// memory: a replica that has not seen the refusal yet learns it from its own first refused call.
/// </summary>
public sealed class ProviderCapacity(TimeProvider time, IOptions<SubmitterOptions> options)
{
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, int Streak)> _refusing = new(StringComparer.Ordinal);

    public bool IsRefusing(string provider) => _refusing.TryGetValue(provider, out var refusal) && refusal.Until > time.GetUtcNow();

    public void Refused(string provider)
    {
        var now = time.GetUtcNow();
        _refusing.AddOrUpdate(provider,
            _ => (now + options.Value.RefusalDelay, 1),
            (_, refusal) => (now + Wait(refusal.Streak), refusal.Streak + 1));
    }

    public void Accepted(string provider) => _refusing.TryRemove(provider, out _);

    private TimeSpan Wait(int streak)
    {
        var wait = options.Value.RefusalDelay * Math.Pow(2, Math.Min(streak, 20));
        return wait < options.Value.MaxRefusalDelay ? wait : options.Value.MaxRefusalDelay;
    }
}
