using BatchAspire.Contracts;
using BatchAspire.Submitter.Submitting;
using MassTransit;

namespace BatchAspire.Submitter.Consumers;

/// <summary>Plans an accepted job's chunks (once) and sends them on.</summary>
public sealed class JobAcceptedConsumer(JobPlanning planning) : IConsumer<JobAccepted>
{
    public Task Consume(ConsumeContext<JobAccepted> context) =>
        planning.PlanAsync(context.Message.JobId, context, context.CancellationToken);
}

public sealed class JobAcceptedConsumerDefinition : ConsumerDefinition<JobAcceptedConsumer>
{
    public JobAcceptedConsumerDefinition() => ConcurrentMessageLimit = 4;
}
