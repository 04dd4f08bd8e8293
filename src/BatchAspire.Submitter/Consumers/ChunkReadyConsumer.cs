using BatchAspire.Contracts;
using BatchAspire.Submitter.Submitting;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Submitter.Consumers;

/// <summary>Submits a planned (or delayed) chunk to the provider.</summary>
public sealed class ChunkReadyConsumer(ChunkSubmitter submitter) : IConsumer<ChunkReady>
{
    public Task Consume(ConsumeContext<ChunkReady> context) =>
        submitter.SubmitAsync(context.Message.ChunkId, context, context.CancellationToken);
}

/// <summary>Uploads stream from the blob store to the provider: a bounded number per replica keeps memory and sockets bounded.</summary>
public sealed class ChunkReadyConsumerDefinition : ConsumerDefinition<ChunkReadyConsumer>
{
    public ChunkReadyConsumerDefinition(IOptions<SubmitterOptions> options) => ConcurrentMessageLimit = options.Value.ConcurrentSubmissions;
}
