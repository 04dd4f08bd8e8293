using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BatchAspire.EndToEnd.Tests;

[Collection(nameof(AppHostCollection))]
public sealed class FoundationTests(AppHostFixture fixture)
{
    [Fact]
    public async Task EveryResourceBecomesHealthyWithoutAContainerRuntime()
    {
        foreach (var name in AppHostFixture.AllResources)
        {
            var state = await fixture.App.ResourceNotifications
                .WaitForResourceHealthyAsync(name, TestContext.Current.CancellationToken)
                .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            Assert.Equal(HealthStatus.Healthy, state.Snapshot.HealthStatus);
        }
    }

    [Fact]
    public void LocalServersRunAsProcessesUnderTheRunsDataFolder()
    {
        var processes = ServerProcesses.UnderDataDirectory(fixture.DataDirectory).Select(ServerProcesses.Describe).ToList();

        Assert.Contains(processes, p => p.Contains("redis-server", StringComparison.Ordinal));
        Assert.Contains(processes, p => p.Contains("beam.smp", StringComparison.Ordinal));
    }

    [Fact]
    public async Task IntakeAnswersHealthChecksThroughTheAppHost()
    {
        using var client = fixture.CreateIntakeClient();

        var health = await client.GetStringAsync("/health", TestContext.Current.CancellationToken);

        Assert.Equal("Healthy", health);
    }

    [Fact]
    public async Task ServicesExportTheirSpansOverOtlp()
    {
        using var client = fixture.CreateIntakeClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/files");
        request.Headers.Authorization = new("Bearer", "ba-dev-key");
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!fixture.Telemetry.Spans.Any(s => s.Service == "intake" && s.Attributes.GetValueOrDefault("url.path") == "/v1/files"))
        {
            Assert.True(DateTime.UtcNow < deadline, "no intake span for GET /v1/files reached the OTLP receiver");
            await Task.Delay(250, TestContext.Current.CancellationToken);
        }
    }
}

/// <summary>Its own AppHost, because the point is what is left after one stops.</summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task StoppingTheAppHostLeavesNoServerProcessOfThatRunBehind()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("batchaspire-stop-").FullName;
        try
        {
            var app = await AppHostFixture.StartAsync(dataDirectory, []);
            var running = ServerProcesses.UnderDataDirectory(dataDirectory).Select(ServerProcesses.Describe).ToList();
            Assert.Contains(running, p => p.Contains("redis-server", StringComparison.Ordinal));
            Assert.Contains(running, p => p.Contains("beam.smp", StringComparison.Ordinal));

            await app.StopAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
            await app.DisposeAsync();

            var left = ServerProcesses.UnderDataDirectory(dataDirectory);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (left.Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, TestContext.Current.CancellationToken);
                left = ServerProcesses.UnderDataDirectory(dataDirectory);
            }
            Assert.True(left.Count == 0, "left behind: " + string.Join("; ", left.Select(ServerProcesses.Describe)));
        }
        finally
        {
            try { Directory.Delete(dataDirectory, recursive: true); } catch (IOException) { }
        }
    }
}
