using BatchAspire.Contracts;
using BatchAspire.Results.Processing;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BatchAspire.Results.Consumers;

/// <summary>Stores a finished chunk's results, sends retryable requests on, and ends the job when it is over.</summary>
public sealed class ChunkFinishedConsumer(ChunkResultsProcessor processor) : IConsumer<ChunkFinished>
{
    public Task Consume(ConsumeContext<ChunkFinished> context) =>
        processor.ProcessAsync(context.Message, context, context.CancellationToken);
}

/// <summary>Downloads stream through a pipe, so memory stays flat however many chunks a replica stores at once.</summary>
public sealed class ChunkFinishedConsumerDefinition : ConsumerDefinition<ChunkFinishedConsumer>
{
    public ChunkFinishedConsumerDefinition(IOptions<ResultsOptions> options) => ConcurrentMessageLimit = options.Value.ConcurrentChunks;
}
