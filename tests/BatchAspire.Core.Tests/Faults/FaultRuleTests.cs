using BatchAspire.Core.Faults;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace BatchAspire.Core.Tests.Faults;

public sealed class FaultRuleTests
{
    // The provider client's own exceptions are judged in BatchAspire.Providers.Tests (ProviderFaultTests).
    public static TheoryData<Exception> Outages =>
    [
        new HttpRequestException("connection refused"),
        new Polly.Timeout.TimeoutRejectedException(),
        // The provider client's circuit breaker: open after a long run of 5xx, it fails calls without sending them.
        new BrokenCircuitException(),
        new IsolatedCircuitException(),
        new InvalidOperationException("wrapped", new BrokenCircuitException()),
        new StackExchange.Redis.RedisConnectionException(StackExchange.Redis.ConnectionFailureType.UnableToConnect, "down"),
        // The blob store down, or out of room: work waits for it rather than giving a message up.
        new BatchAspire.Storage.BlobStoreUnavailableException("azurite stopped"),
        new BatchAspire.Storage.BlobStoreFullException("disk full"),
    ];

    public static TheoryData<Exception> Faults =>
    [
        new InvalidOperationException("a bug"),
        new ArgumentException("bad message"),
        new BatchAspire.Storage.BlobNotFoundException("jobs/x/runs/0.o.1.data"),
    ];

    [Theory]
    [MemberData(nameof(Outages))]
    public void AnOutageOfWhatAMessageNeedsIsRetriedForAsLongAsItLasts(Exception exception) =>
        Assert.True(FaultRule.IsTransient(exception));

    [Theory]
    [MemberData(nameof(Faults))]
    public void AFaultOfTheMessageOrTheCodeIsNotAnOutage(Exception exception) =>
        Assert.False(FaultRule.IsTransient(exception));

    public static TheoryData<Exception, FaultKind> Kinds => new()
    {
        // Our infrastructure: waited out.
        { new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down"), FaultKind.Outage },
        { new RedisServerException("LOADING Redis is loading the dataset in memory"), FaultKind.Outage },
        { new RedisServerException("READONLY You can't write against a read only replica."), FaultKind.Outage },
        { new IOException("disk gone"), FaultKind.Outage },
        { new BatchAspire.Storage.BlobStoreUnavailableException("azurite stopped"), FaultKind.Outage },
        { new BatchAspire.Storage.BlobStoreFullException("disk full"), FaultKind.Outage },
        // Calls that ended without their answer.
        { new HttpRequestException("connection refused"), FaultKind.NoAnswer },
        { new TimeoutException(), FaultKind.NoAnswer },
        { new RedisTimeoutException("Timeout performing GET", CommandStatus.Sent), FaultKind.NoAnswer },
        { new Polly.Timeout.TimeoutRejectedException(), FaultKind.NoAnswer },
        { new ProviderFault(0), FaultKind.NoAnswer },
        // The provider, for now.
        { new ProviderFault(408), FaultKind.ProviderTransient },
        { new ProviderFault(429), FaultKind.ProviderTransient },
        { new ProviderFault(500), FaultKind.ProviderTransient },
        { new ProviderFault(503), FaultKind.ProviderTransient },
        { new BrokenCircuitException(), FaultKind.ProviderTransient },
        { new IsolatedCircuitException(), FaultKind.ProviderTransient },
        // The provider, for good.
        { new ProviderFault(400), FaultKind.ProviderRejected },
        { new ProviderFault(401), FaultKind.ProviderRejected },
        { new ProviderFault(404), FaultKind.ProviderRejected },
        { new ProviderFault(409), FaultKind.ProviderRejected },
        // Everything else.
        { new ProviderFault(302), FaultKind.Bug },
        { new RedisServerException("WRONGTYPE Operation against a key holding the wrong kind of value"), FaultKind.Bug },
        { new InvalidOperationException("a bug"), FaultKind.Bug },
        { new ArgumentException("bad message"), FaultKind.Bug },
        { new BatchAspire.Storage.BlobNotFoundException("jobs/x/runs/0.o.1.data"), FaultKind.Bug },
        // Only the caller knows whether its own token fired.
        { new OperationCanceledException(), FaultKind.Bug },
        // Wrapped: a transient kind anywhere in the chain wins, else the first kind the rule knows.
        { new InvalidOperationException("wrapped", new BrokenCircuitException()), FaultKind.ProviderTransient },
        { new ProviderFault(400, new HttpRequestException("reset")), FaultKind.NoAnswer },
        { new InvalidOperationException("wrapped", new ProviderFault(404)), FaultKind.ProviderRejected },
        { new AggregateException(new ArgumentException("bad"), new RedisConnectionException(ConnectionFailureType.SocketFailure, "reset")), FaultKind.Outage },
        { new AggregateException(new ArgumentException("bad"), new ProviderFault(409)), FaultKind.ProviderRejected },
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EachFailureHasOneKind(Exception exception, FaultKind kind)
    {
        Assert.Equal(kind, FaultRule.Classify(exception));
        Assert.Equal(kind is FaultKind.Outage or FaultKind.NoAnswer or FaultKind.ProviderTransient, FaultRule.IsTransient(exception));
    }

    /// <summary>What the provider client's exception looks like to the rule.</summary>
    private sealed class ProviderFault(int status, Exception? inner = null) : Exception($"HTTP {status}", inner), IProviderFault
    {
        public int Status { get; } = status;
    }
}
