using System.ClientModel;
using System.ClientModel.Primitives;
using BatchAspire.Core.Providers;
using Microsoft.Extensions.Hosting;
using OpenAI;
using Polly.CircuitBreaker;

namespace BatchAspire.Core.Tests.Messaging;

public sealed class TransientFaultTests
{
    public static TheoryData<Exception> Outages =>
    [
        new ProviderCallException("download file", 500, "server_error", null),
        new ProviderCallException("create batch", 429, null, "rate_limit_exceeded"),
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
        new ProviderCallException("create batch", 400, "invalid_request_error", "invalid_value"),
        new InvalidOperationException("a bug"),
        new ArgumentException("bad message"),
        new BatchAspire.Storage.BlobNotFoundException("jobs/x/runs/0.o.1.data"),
    ];

    [Theory]
    [MemberData(nameof(Outages))]
    public void AnOutageOfWhatAMessageNeedsIsRetriedForAsLongAsItLasts(Exception exception) =>
        Assert.True(TransientFaults.IsOutage(exception));

    [Theory]
    [MemberData(nameof(Faults))]
    public void AFaultOfTheMessageOrTheCodeIsNotAnOutage(Exception exception) =>
        Assert.False(TransientFaults.IsOutage(exception));

    [Fact]
    public async Task AProviderThatDoesNotAnswerIsAnOutage()
    {
        // Nothing listens on the discard port: the connection is refused, as when the provider (or the Sandbox) is down.
        using var http = new HttpClient();
        var client = new OpenAIClient(new ApiKeyCredential("sk-test"), new OpenAIClientOptions
        {
            Endpoint = new Uri("http://127.0.0.1:9/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });
#pragma warning disable OPENAI001 // the Batch API is experimental in the SDK
        var commands = new ProviderBatchCommands(client.GetBatchClient(), client.GetOpenAIFileClient());
#pragma warning restore OPENAI001

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => commands.OpenContentAsync("file-abc", TestContext.Current.CancellationToken));

        Assert.True(TransientFaults.IsOutage(refused), $"{refused.GetType().FullName}: {refused.Message}");
    }
}
