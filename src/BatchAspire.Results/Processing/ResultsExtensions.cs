using BatchAspire.Core.Chunks;
using BatchAspire.Core.Pricing;
using BatchAspire.Results.Pricing;
using BatchAspire.Core.Results;
using BatchAspire.Providers;
using BatchAspire.Results.Consumers;
using BatchAspire.Results.Processing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

public static class ResultsExtensions
{
    /// <summary>
    /// The results service: options (sections <c>Results</c> and <c>Pricing</c>), chunk processing, job assembly,
    /// the completion-window sweeper, the re-announcer of lost <c>ChunkFinished</c> messages and the webhook dispatcher (section <c>Webhooks</c>). Needs an <c>IConnectionMultiplexer</c>, <c>AddBatchStores</c>, the provider
    /// client and a bus with <see cref="AddResultsConsumers"/>.
    /// </summary>
    public static TBuilder AddResults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<ResultsOptions>()
            .BindConfiguration(ResultsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddOptions<PricingOptions>()
            .BindConfiguration(PricingOptions.SectionName)
            .Validate(o => o.BatchDiscount is > 0 and <= 1, $"{PricingOptions.SectionName}:BatchDiscount must be in (0, 1].")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ChunkStore>();
        builder.Services.TryAddSingleton<ResultStore>();
        builder.Services.TryAddSingleton<JobAssembler>();
        builder.Services.TryAddSingleton<PriceTable>();
        builder.Services.TryAddSingleton<ProviderBatchCommands>();
        builder.Services.TryAddSingleton<JobStopper>();
        builder.Services.TryAddSingleton<ResultsTelemetry>();
        builder.Services.TryAddSingleton<JobFinalizer>();
        builder.Services.TryAddSingleton<ProviderFileDeletions>();
        builder.Services.TryAddSingleton<ChunkResultsProcessor>();
        builder.Services.AddHostedService<JobDeadlineSweeper>();
        builder.Services.AddHostedService<ProviderFileSweeper>();
        builder.Services.AddHostedService<BlobSweeper>();
        builder.Services.AddHostedService<ChunkFinishedRepublisher>();
        builder.AddWebhooks();
        return builder;
    }

    /// <summary>The results consumers: <c>ChunkFinished</c> (a provider batch ended) and <c>ChunkClosed</c> (a chunk closed without one).</summary>
    public static IBusRegistrationConfigurator AddResultsConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ChunkFinishedConsumer, ChunkFinishedConsumerDefinition>();
        bus.AddConsumer<ChunkClosedConsumer, ChunkClosedConsumerDefinition>();
        return bus;
    }
}
