using BatchAspire.AppHost.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// Jobs as dashboard resources: what the AppHost publishes through ResourceNotificationService (the stream the
/// dashboard shows) for a job, and the Cancel command acting on the job through the intake.
/// </summary>
[Collection(nameof(AppHostCollection))]
public sealed class JobsViewTests(AppHostFixture fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string ResourceOf(string batchId) => batchId.Replace('_', '-');

    private static string? Property(CustomResourceSnapshot snapshot, string name) =>
        snapshot.Properties.FirstOrDefault(p => p.Name == name)?.Value?.ToString();

    [Fact]
    public async Task AFinishedJobShowsUnderJobsWithItsStatusProgressAndTenant()
    {
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, "ba-dev-key");
        var batchId = await sdk.CreateBatchAsync(await sdk.UploadAsync(JobTests.Requests(4, "viewed"), "viewed.jsonl", Ct), Ct);
        await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(3), Ct);

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(TimeSpan.FromSeconds(20));
        var shown = await fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceOf(batchId),
            e => e.Snapshot.State?.Text == "completed", bound.Token);

        var snapshot = shown.Snapshot;
        Assert.Equal("Job", snapshot.ResourceType);
        Assert.Equal(batchId, Property(snapshot, "batchaspire.batch_id"));
        Assert.Equal("4/4 final (0 failed)", Property(snapshot, "batchaspire.progress"));
        Assert.Equal("1/1 done (0 open)", Property(snapshot, "batchaspire.chunks"));
        Assert.Equal("0", Property(snapshot, "batchaspire.chunks_open"));
        Assert.Equal("dev", Property(snapshot, "batchaspire.tenant"));
        Assert.Contains(snapshot.Relationships, r => r.ResourceName == JobsViewExtensions.ResourceName && r.Type == "Parent");
        Assert.Equal(ResourceCommandState.Disabled, snapshot.Commands.Single(c => c.Name == JobsViewExtensions.CancelCommand).State);
    }

    [Fact]
    public async Task TheCancelCommandCancelsTheJobThroughTheIntake()
    {
        var sdk = new IntakeSdk(fixture.IntakeBaseUrl, "ba-dev-key");
        // The Sandbox answers fast: a big job, and the fixture refreshes the view every 250 ms, so the job is still
        // open when its entry appears.
        var fileId = await sdk.UploadAsync(JobTests.Requests(3000, "view-cancel"), "cancel.jsonl", Ct);
        var batchId = await sdk.CreateBatchAsync(fileId, Ct);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(TimeSpan.FromSeconds(20));
        await fixture.App.ResourceNotifications.WaitForResourceAsync(ResourceOf(batchId), _ => true, bound.Token);

        var result = await fixture.App.Services.GetRequiredService<ResourceCommandService>()
            .ExecuteCommandAsync(ResourceOf(batchId), JobsViewExtensions.CancelCommand, Ct);

        Assert.True(result.Success, result.Message);
        var ended = await sdk.WaitForEndAsync(batchId, TimeSpan.FromMinutes(2), Ct);
        Assert.Equal("cancelled", ended.GetProperty("status").GetString());
    }
}
