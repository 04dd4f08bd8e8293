using BatchAspire.Contracts;
using BatchAspire.Submitter.Submitting;
using MassTransit;

namespace BatchAspire.Submitter.Consumers;

/// <summary>Submits a retry chunk (a new attempt of requests that failed for a transient reason).</summary>
public sealed class RequestsRetryableConsumer(ChunkSubmitter submitter) : IConsumer<RequestsRetryable>
{
    public Task Consume(ConsumeContext<RequestsRetryable> context) =>
        submitter.SubmitAsync(context.Message.ChunkId, context, context.CancellationToken);
}

public sealed class RequestsRetryableConsumerDefinition : ConsumerDefinition<RequestsRetryableConsumer>
{
    public RequestsRetryableConsumerDefinition() => ConcurrentMessageLimit = 8;
}
