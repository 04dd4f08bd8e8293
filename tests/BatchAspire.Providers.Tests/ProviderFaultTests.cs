using System.ClientModel;
using System.ClientModel.Primitives;
using BatchAspire.Core.Faults;
using OpenAI;

namespace BatchAspire.Providers.Tests;

public sealed class ProviderFaultTests
{
    public static TheoryData<Exception> AsksForLater =>
    [
        new ProviderCallException("download file", 500, "server_error", null),
        new ProviderCallException("create batch", 429, null, "rate_limit_exceeded"),
    ];

    public static TheoryData<Exception> Rejections =>
    [
        new ProviderCallException("create batch", 400, "invalid_request_error", "invalid_value"),
    ];

    [Theory]
    [MemberData(nameof(AsksForLater))]
    public void AProviderAnswerThatAsksForLaterIsRetriedForAsLongAsItLasts(Exception exception) =>
        Assert.Equal(FaultKind.ProviderTransient, FaultRule.Classify(exception));

    [Theory]
    [MemberData(nameof(Rejections))]
    public void AProviderRejectionIsNotRetried(Exception exception)
    {
        Assert.Equal(FaultKind.ProviderRejected, FaultRule.Classify(exception));
        Assert.False(FaultRule.IsTransient(exception));
    }

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

        Assert.True(FaultRule.IsTransient(refused), $"{refused.GetType().FullName}: {refused.Message}");
    }

    [Theory]
    [InlineData(0, FaultKind.NoAnswer)]
    [InlineData(400, FaultKind.ProviderRejected)]
    [InlineData(401, FaultKind.ProviderRejected)]
    [InlineData(404, FaultKind.ProviderRejected)]
    [InlineData(408, FaultKind.ProviderTransient)]
    [InlineData(409, FaultKind.ProviderRejected)]
    [InlineData(429, FaultKind.ProviderTransient)]
    [InlineData(500, FaultKind.ProviderTransient)]
    [InlineData(503, FaultKind.ProviderTransient)]
    public void AProviderCallFailureIsJudgedByItsStatus(int status, FaultKind kind) =>
        Assert.Equal(kind, FaultRule.Classify(new ProviderCallException("cancel batch", status, null, null)));
}
