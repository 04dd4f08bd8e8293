using BatchAspire.Core.Chunks;
using BatchAspire.Core.Polling;
using BatchAspire.Providers;
using BatchAspire.Submitter.Consumers;
using BatchAspire.Submitter.Submitting;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class SubmitterExtensions
{
    /// <summary>
    /// The submitter's options (section <c>Submitter</c>, validated at start), planning and submitting services and
    /// the delayed-chunk sweeper. Needs an <c>IConnectionMultiplexer</c>, <c>AddBatchStores</c>, the provider client
    /// and a bus with <see cref="AddSubmitterConsumers"/>.
    /// </summary>
    public static TBuilder AddSubmitter<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<SubmitterOptions>()
            .BindConfiguration(SubmitterOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ChunkStore>();
        builder.Services.TryAddSingleton<PollSchedule>();
        builder.Services.TryAddSingleton<ProviderBatchCommands>();
        builder.Services.TryAddSingleton<ProviderCapacity>();
        builder.Services.TryAddSingleton<JobStopper>();
        builder.Services.TryAddSingleton<SubmitterTelemetry>();
        builder.Services.TryAddSingleton<JobPlanning>();
        builder.Services.TryAddSingleton<ChunkSubmitter>();
        builder.Services.AddHostedService<DelayedChunkSweeper>();
        return builder;
    }

    /// <summary>The submitter's consumers: plan on <c>JobAccepted</c>, submit on <c>ChunkReady</c>/<c>RequestsRetryable</c>, stop on <c>JobCancelRequested</c>.</summary>
    public static IBusRegistrationConfigurator AddSubmitterConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<JobAcceptedConsumer, JobAcceptedConsumerDefinition>();
        bus.AddConsumer<ChunkReadyConsumer, ChunkReadyConsumerDefinition>();
        bus.AddConsumer<RequestsRetryableConsumer, RequestsRetryableConsumerDefinition>();
        bus.AddConsumer<JobCancelRequestedConsumer, JobCancelRequestedConsumerDefinition>();
        return bus;
    }
}
