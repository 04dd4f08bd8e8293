using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using BatchAspire.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BatchAspire.AppHost.Jobs;

/// <summary>The dashboard's "jobs" entry: the parent of one entry per recent job.</summary>
public sealed class JobsResource(string name) : Resource(name);

/// <summary>One job in the dashboard, created at run time when the job first shows in the intake's list.</summary>
public sealed class JobResource(string name, string batchId, JobsResource parent) : Resource(name), IResourceWithParent<JobsResource>
{
    public string BatchId { get; } = batchId;
    public JobsResource Parent { get; } = parent;
}

/// <summary>Where the jobs view reads: the intake's list of batches, as the API key's tenant sees it.</summary>
public sealed record JobsViewOptions(string ApiKey, string Tenant, int Limit, TimeSpan Interval);

public static class JobsViewExtensions
{
    public const string ResourceName = "jobs";
    public const string CancelCommand = "cancel-job";

    /// <summary>
    /// Shows the most recent jobs (<c>Dashboard:Jobs:Limit</c>, 50) as dashboard resources under a "jobs" parent, with
    /// their status, progress, chunks, cost and tenant, updated every <c>Dashboard:Jobs:Interval</c> (2 s), and a Cancel command.
    /// They are read through the intake's own Batches API with <c>Dashboard:Jobs:ApiKey</c> (the development key by
    /// default), so the dashboard sees exactly what that tenant may see and knows no Redis key.
    /// </summary>
    public static IResourceBuilder<JobsResource> AddJobsView(this IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("Dashboard:Jobs");
        builder.Services.AddSingleton(new JobsViewOptions(
            section["ApiKey"] ?? "ba-dev-key",
            section["Tenant"] ?? "dev",
            section.GetValue("Limit", 50),
            section.GetValue("Interval", TimeSpan.FromSeconds(2))));
        builder.Services.AddSingleton<JobsView>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobsView>());
        return builder.AddResource(new JobsResource(ResourceName))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Jobs",
                State = new ResourceStateSnapshot("Waiting for the intake", KnownResourceStateStyles.Info),
                Properties = [],
            })
            .ExcludeFromManifest();
    }
}

/// <summary>
/// Polls the intake's batch list and publishes each job as a <see cref="JobResource"/> snapshot through
/// <see cref="ResourceNotificationService"/>: the dashboard shows any resource published there, also one created
/// after start. A job that drops out of the list is hidden, not deleted (the dashboard has no removal).
/// </summary>
internal sealed partial class JobsView(
    DistributedApplicationModel model, ResourceNotificationService notifications, JobsViewOptions options,
    ILogger<JobsView> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<string, JobResource> _jobs = new(StringComparer.Ordinal);
    private HttpClient? _http;

    private JobsResource Parent => model.Resources.OfType<JobsResource>().Single();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await notifications.WaitForResourceHealthyAsync(ResourceNames.Intake, stoppingToken);
            var intake = model.Resources.OfType<ProjectResource>().Single(r => r.Name == ResourceNames.Intake);
            _http = new HttpClient { BaseAddress = new Uri(intake.GetEndpoint("http").Url + "/"), Timeout = TimeSpan.FromSeconds(10) };
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
            using var timer = new PeriodicTimer(options.Interval);
            do
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
                {
                    LogRefreshFailed(logger, e);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/batches?limit={options.Limit}");
        // A refresh every 2 s must not become a trace each in the intake (the idle-trace rule): the W3C way to say
        // so is a parent that is not sampled, which the services' parent-based sampler follows.
        request.Headers.Add("traceparent", $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00");
        using var response = await _http!.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var batch in document.RootElement.GetProperty("data").EnumerateArray())
        {
            var job = JobView.Read(batch);
            seen.Add(job.Id);
            var resource = _jobs.GetOrAdd(job.Id, id => NewResource(id));
            await notifications.PublishUpdateAsync(resource, s => job.Apply(s, Parent.Name, options.Tenant));
        }
        foreach (var (id, resource) in _jobs)
        {
            if (seen.Contains(id)) continue;
            await notifications.PublishUpdateAsync(resource, s => s with { IsHidden = true });
            _jobs.TryRemove(id, out _);
        }
        await notifications.PublishUpdateAsync(Parent, s => s with
        {
            State = new ResourceStateSnapshot("Running", KnownResourceStateStyles.Success),
            Properties = [new("jobs.shown", seen.Count.ToString(CultureInfo.InvariantCulture)), new("jobs.tenant", options.Tenant)],
        });
    }

    private JobResource NewResource(string batchId)
    {
        // Dashboard names are letters, digits and hyphens: batch_abc → batch-abc (the id itself is a property).
        var resource = new JobResource(batchId.Replace('_', '-'), batchId, Parent);
        resource.Annotations.Add(new ResourceRelationshipAnnotation(Parent, "Parent"));
        resource.Annotations.Add(new ResourceCommandAnnotation(JobsViewExtensions.CancelCommand, "Cancel",
            context => context.ResourceSnapshot.State?.Text is "validating" or "in_progress" or "finalizing"
                ? ResourceCommandState.Enabled : ResourceCommandState.Disabled,
            context => CancelAsync(batchId, context.CancellationToken),
            displayDescription: "Cancel the batch through the intake (POST /v1/batches/{id}/cancel).",
            parameter: null, confirmationMessage: $"Cancel {batchId}?", iconName: "Stop", iconVariant: IconVariant.Regular,
            isHighlighted: false));
        return resource;
    }

    private async Task<ExecuteCommandResult> CancelAsync(string batchId, CancellationToken ct)
    {
        if (_http is null) return CommandResults.Failure("The intake is not up yet.");
        using var response = await _http.PostAsync($"v1/batches/{batchId}/cancel", content: null, ct);
        return response.IsSuccessStatusCode
            ? CommandResults.Success()
            : CommandResults.Failure($"The intake answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the jobs for the dashboard failed; the next refresh tries again")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

/// <summary>What the dashboard shows of one batch object (ids, counts and cost only).</summary>
internal sealed record JobView(string Id, string Status, long Total, long Completed, long Failed, double? CostUsd,
    (long Total, long Open, long Done)? Chunks, DateTime CreatedAt)
{
    public static JobView Read(JsonElement batch)
    {
        var counts = batch.GetProperty("request_counts");
        double? cost = batch.TryGetProperty("cost", out var c) && c.ValueKind == JsonValueKind.Object && c.TryGetProperty("batch_usd", out var usd)
            ? usd.GetDouble() : null;
        // The intake's extension (docs/intake.md): absent until the job is planned.
        (long, long, long)? chunks = batch.TryGetProperty("chunks", out var k) && k.ValueKind == JsonValueKind.Object
            ? (k.GetProperty("total").GetInt64(), k.GetProperty("open").GetInt64(), k.GetProperty("done").GetInt64()) : null;
        return new JobView(batch.GetProperty("id").GetString()!, batch.GetProperty("status").GetString()!,
            counts.GetProperty("total").GetInt64(), counts.GetProperty("completed").GetInt64(), counts.GetProperty("failed").GetInt64(),
            cost, chunks, DateTimeOffset.FromUnixTimeSeconds(batch.GetProperty("created_at").GetInt64()).UtcDateTime);
    }

    public CustomResourceSnapshot Apply(CustomResourceSnapshot snapshot, string parent, string tenant)
    {
        var final = Completed + Failed;
        return snapshot with
        {
            ResourceType = "Job",
            CreationTimeStamp = CreatedAt,
            State = new ResourceStateSnapshot(Status, Status switch
            {
                "completed" => KnownResourceStateStyles.Success,
                "failed" or "expired" => KnownResourceStateStyles.Error,
                "cancelling" or "cancelled" => KnownResourceStateStyles.Warn,
                _ => KnownResourceStateStyles.Info,
            }),
            IsHidden = false,
            Relationships = [new RelationshipSnapshot(parent, "Parent")],
            Properties =
            [
                new("batchaspire.batch_id", Id),
                new("batchaspire.status", Status),
                new("batchaspire.progress", $"{final}/{Total} final ({Failed} failed)"),
                new("batchaspire.chunks", Chunks is { } c ? $"{c.Done}/{c.Total} done ({c.Open} open)" : "n/a"),
                new("batchaspire.chunks_open", Chunks is { } k ? k.Open.ToString(CultureInfo.InvariantCulture) : "n/a"),
                new("batchaspire.cost_usd", CostUsd is { } usd ? usd.ToString("0.######", CultureInfo.InvariantCulture) : "0"),
                new("batchaspire.tenant", tenant),
            ],
        };
    }
}
