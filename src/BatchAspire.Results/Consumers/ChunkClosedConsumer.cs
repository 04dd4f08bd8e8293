using BatchAspire.Contracts;
using BatchAspire.Results.Processing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Consumers;

/// <summary>Ends the requests of a chunk that closed without a provider batch, and ends the job when it is over.</summary>
public sealed class ChunkClosedConsumer(ChunkResultsProcessor processor) : IConsumer<ChunkClosed>
{
    public Task Consume(ConsumeContext<ChunkClosed> context) =>
        processor.ProcessAsync(context.Message, context, context.CancellationToken);
}

/// <summary>A closed chunk downloads nothing, but writes its error lines through the same pipe as a finished one.</summary>
public sealed class ChunkClosedConsumerDefinition : ConsumerDefinition<ChunkClosedConsumer>
{
    public ChunkClosedConsumerDefinition(IOptions<ResultsOptions> options) => ConcurrentMessageLimit = options.Value.ConcurrentChunks;
}
