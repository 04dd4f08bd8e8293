using BatchAspire.Storage;
using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace BatchAspire.Core.Faults;

/// <summary>What a failure means to the code that caught it: <see cref="FaultRule.Classify(Exception)"/> decides.</summary>
public enum FaultKind
{
    /// <summary>Nothing the rule knows: a fault of the message or of the code. Short retries, then the error queue.</summary>
    Bug,

    /// <summary>
    /// Something of ours the work needs is unreachable, busy or full: Redis (not connected, loading, read-only…), the
    /// blob store, the disk. Waited out: a message is retried for as long as it lasts and never dead-lettered.
    /// </summary>
    Outage,

    /// <summary>
    /// A call ended without its answer: the connection failed, or the call timed out (an HTTP call, the provider
    /// client's attempt timeout, a Redis command), or the provider did not answer at all (status 0). Whoever was
    /// called may or may not have acted, so a caller for whom acting twice matters looks before it asks again.
    /// Waited out like an outage.
    /// </summary>
    NoAnswer,

    /// <summary>
    /// The provider is not taking calls for now: it answered 408, 429 or 5xx, or the provider client's circuit
    /// breaker is open and fails calls without sending them. Ask again later.
    /// </summary>
    ProviderTransient,

    /// <summary>
    /// The provider answered a 4xx other than 408 and 429: the request is invalid, the batch or file is gone, or the
    /// batch has already ended. Asking again gets the same answer.
    /// </summary>
    ProviderRejected,
}

/// <summary>The one rule for "is this failure transient?": the bus's retry policy, the submitter and the job stopper all ask it.</summary>
public static class FaultRule
{
    private static readonly string[] RedisTransientErrors = ["LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY", "CLUSTERDOWN"];

    /// <summary>
    /// What <paramref name="exception"/> means, judging it and its inner exceptions (outermost first, and every
    /// member of an <see cref="AggregateException"/>). A transient kind found anywhere wins, so wrapping an outage
    /// in another exception never sends a message to the error queue; otherwise the first kind the rule knows.
    /// </summary>
    /// <remarks>
    /// An <see cref="OperationCanceledException"/> is a <see cref="FaultKind.Bug"/> here: only the caller knows
    /// whether its own token fired (shutdown) or something else cancelled the call (a timeout by another name).
    /// </remarks>
    public static FaultKind Classify(Exception exception)
    {
        var first = FaultKind.Bug;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            var kind = KindOf(e);
            if (kind == FaultKind.Bug && e is AggregateException aggregate)
            {
                foreach (var member in aggregate.InnerExceptions)
                {
                    var memberKind = Classify(member);
                    if (memberKind.IsTransient()) return memberKind;
                    if (kind == FaultKind.Bug) kind = memberKind;
                }
            }
            if (kind.IsTransient()) return kind;
            if (first == FaultKind.Bug) first = kind;
        }
        return first;
    }

    /// <summary><see cref="FaultKind.Outage"/>, <see cref="FaultKind.NoAnswer"/> or <see cref="FaultKind.ProviderTransient"/>: wait it out.</summary>
    public static bool IsTransient(this FaultKind kind) => kind is FaultKind.Outage or FaultKind.NoAnswer or FaultKind.ProviderTransient;

    /// <summary>Whether <paramref name="exception"/> is a failure to wait out (see <see cref="Classify(Exception)"/>).</summary>
    public static bool IsTransient(Exception exception) => Classify(exception).IsTransient();

    private static FaultKind KindOf(Exception exception) => exception switch
    {
        // No answer at all: the SDK reports a refused or reset connection as status 0.
        IProviderFault { Status: 0 } => FaultKind.NoAnswer,
        IProviderFault { Status: 408 or 429 or >= 500 } => FaultKind.ProviderTransient,
        IProviderFault { Status: >= 400 and < 500 } => FaultKind.ProviderRejected,
        RedisConnectionException => FaultKind.Outage,
        RedisServerException server when RedisTransientErrors.Any(p => server.Message.StartsWith(p, StringComparison.Ordinal)) => FaultKind.Outage,
        // RedisTimeoutException is a TimeoutException: the command may have run.
        HttpRequestException or TimeoutException or TimeoutRejectedException => FaultKind.NoAnswer,
        // The provider client's circuit breaker opened after many failures: the provider is down for now, and the
        // breaker lets calls through again on its own.
        BrokenCircuitException => FaultKind.ProviderTransient,
        IOException => FaultKind.Outage,
        // A full disk is an operator's to mend; the message must not be given up meanwhile.
        BlobStoreUnavailableException or BlobStoreFullException => FaultKind.Outage,
        _ => FaultKind.Bug,
    };
}
