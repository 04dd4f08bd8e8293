using BatchAspire.Sandbox.Batches;
using BatchAspire.Sandbox.Executors;
using BatchAspire.Sandbox.Faults;
using BatchAspire.Sandbox.Files;
using BatchAspire.Sandbox.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox;

public static class SandboxExtensions
{
    /// <summary>Options, the on-disk stores, the executor chosen by <c>Sandbox:Executor</c>, fault knobs and the batch runner.</summary>
    public static IHostApplicationBuilder AddSandbox(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SandboxOptions>().BindConfiguration(SandboxOptions.SectionName);
        services.AddOptions<FaultSettings>().BindConfiguration($"{SandboxOptions.SectionName}:Faults");
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DataFolder>();
        services.AddSingleton<Sequence>();
        services.AddSingleton<FileStore>();
        services.AddSingleton<BatchStore>();
        services.AddSingleton<FaultState>();
        services.AddSingleton<SandboxStats>();
        services.AddSingleton<TokenCounter>();
        services.AddSingleton<EnqueuedTokens>();
        services.AddSingleton<BatchProcessor>();
        services.AddSingleton<BatchRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<BatchRunner>());
        services.AddSingleton<IRequestExecutor>(sp =>
            sp.GetRequiredService<IOptions<SandboxOptions>>().Value.Executor.ToLowerInvariant() switch
            {
                "local" => ActivatorUtilities.CreateInstance<LocalExecutor>(sp),
                "proxy" => ActivatorUtilities.CreateInstance<ProxyExecutor>(sp),
                var other => throw new InvalidOperationException($"Unknown Sandbox:Executor '{other}': use 'local' or 'proxy'."),
            });
        return builder;
    }

    /// <summary>The Files and Batches API under <paramref name="prefix"/> (mapped at <c>/v1</c> and at the root).</summary>
    public static WebApplication MapOpenAIApi(this WebApplication app, string prefix)
    {
        var group = app.MapGroup(prefix);
        group.MapFilesApi();
        group.MapBatchesApi();
        return app;
    }

    /// <summary>Loads the stores and the tokenizer before the first request, and logs where data lives.</summary>
    public static WebApplication WarmUpSandbox(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<SandboxOptions>>().Value;
        app.Services.GetRequiredService<FileStore>();
        app.Services.GetRequiredService<BatchStore>();
        app.Services.GetRequiredService<TokenCounter>().Count("warm up");
        app.Services.GetRequiredService<IRequestExecutor>();
        SandboxLog.Started(app.Logger, options.ResolveDataDirectory(), options.Executor);
        return app;
    }
}
