using System.Net.Http.Json;
using BatchAspire.Contracts;
using BatchAspire.EndToEnd.Tests;
using BatchAspire.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace BatchAspire.Dashboard.Tests;

/// <summary>
/// One AppHost with the Aspire dashboard (the testing builder leaves it out unless asked), one chromium, and two jobs
/// the tests look for: one that has completed in four chunks, and one held open at the Sandbox.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>Debian's chromium: Playwright's own browser download is not possible here (scripts/prerequisites.sh installs it).</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    public const string DevelopmentKey = "ba-dev-key";

    /// <summary>Requests per chunk in this AppHost, so a small job is planned into several chunks.</summary>
    public const int LinesPerChunk = 10;

    public const int CompletedRequests = 40;

    public const int OpenRequests = 5;

    /// <summary>The dashboard's resource name (Aspire's KnownResourceNames is internal).</summary>
    public const string DashboardResource = "aspire-dashboard";

    private static readonly string[] Resources =
        [ResourceNames.Cache, ResourceNames.Messaging, ResourceNames.Sandbox, ResourceNames.Intake,
         ResourceNames.Submitter, ResourceNames.Poller, ResourceNames.Results];

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("batchaspire-dashboard-").FullName;
    private IPlaywright? _playwright;

    public DistributedApplication App { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public Uri DashboardUrl { get; private set; } = null!;

    internal IntakeSdk Sdk { get; private set; } = null!;

    /// <summary>A job that has completed: <see cref="CompletedRequests"/> requests in four chunks.</summary>
    public string CompletedBatchId { get; private set; } = "";

    /// <summary>A job the Sandbox holds in validation, so it stays <c>in_progress</c> with its one chunk open.</summary>
    public string OpenBatchId { get; private set; } = "";

    /// <summary>Where screenshots go: docs/images when BATCHASPIRE_SCREENSHOTS=docs, else beside the test binaries.</summary>
    public string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("BATCHASPIRE_SCREENSHOTS") == "docs"
        ? Path.Combine(RepoPaths.Root, "docs", "images")
        : Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    /// <summary>How long each step of the start took (printed by the tests, so a slow run says where it went).</summary>
    public List<string> Timings { get; } = [];

    public async ValueTask InitializeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Took(string step) => Timings.Add($"{step}: {clock.Elapsed.TotalSeconds:0.0} s");
        // Bounded, with room for a loaded machine: on an idle one this takes well under a minute.
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = bound.Token;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.BatchAspire_AppHost>(
            [
                "Infra:Mode=process", $"Infra:DataDirectory={_dataDirectory}",
                $"Submitter:MaxLinesPerChunk={LinesPerChunk}", "Dashboard:Jobs:Interval=00:00:00.500",
                // The dashboard unsecured, as scripts/run.sh runs it: no browser token to log in with.
                "ASPIRE_ALLOW_UNSECURED_TRANSPORT=true", "ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true",
                // The launch profile's fixed 18887 would collide with a scripts/run.sh on the machine; the dashboard's
                // own endpoints are proxied, and the testing builder gives those random ports.
                $"ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL=http://localhost:{FreePort.Next()}",
            ],
            (options, _) => options.DisableDashboard = false, ct);
        // The services' own logs are in the dashboard; the test output keeps the AppHost's warnings only.
        builder.Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning)
            .AddFilter("BatchAspire.AppHost.Resources", LogLevel.Warning).AddFilter("Aspire.Hosting", LogLevel.Warning));
        App = await builder.BuildAsync(ct);
        await App.StartAsync(ct);
        Took("AppHost started");
        foreach (var resource in Resources) await App.ResourceNotifications.WaitForResourceHealthyAsync(resource, ct);
        Took("services healthy");
        await App.ResourceNotifications.WaitForResourceAsync(DashboardResource, KnownResourceStates.Running, ct);
        DashboardUrl = App.GetEndpoint(DashboardResource, "http");
        Took("dashboard running");

        Sdk = new IntakeSdk(new Uri(App.GetEndpoint(ResourceNames.Intake, "http"), "v1"), DevelopmentKey);
        CompletedBatchId = await Sdk.CreateBatchAsync(await Sdk.UploadAsync(Requests(CompletedRequests, "watched"), "watched.jsonl", ct), ct);
        await Sdk.WaitForEndAsync(CompletedBatchId, TimeSpan.FromMinutes(2), ct);
        Took("first job completed");

        // From now on the Sandbox keeps new batches validating: the next job stays open while the tests look at it.
        using (var sandbox = App.CreateHttpClient(ResourceNames.Sandbox, "http"))
        {
            using var put = await sandbox.PutAsJsonAsync("/sandbox/faults", new { validation_delay_ms = 600_000 }, ct);
            put.EnsureSuccessStatusCode();
        }
        OpenBatchId = await Sdk.CreateBatchAsync(await Sdk.UploadAsync(Requests(OpenRequests, "held"), "held.jsonl", ct), ct);

        _playwright = await Playwright.CreateAsync();
        // Expect(...) retries until this bound (Playwright's default is 5 s: short on a loaded two-core machine).
        Assertions.SetDefaultExpectTimeout(30_000);
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });
        Took("second job created, chromium started");
    }

    /// <summary>A page of the dashboard, 1280×800 (a laptop screen: the screenshots stay readable and small).</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = DashboardUrl.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = ColorScheme.Light,
        });
        // Every wait is bounded; Playwright's locators retry until then.
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return page;
    }

    /// <summary>
    /// Saves what the page shows as docs/images/<paramref name="name"/>. The dashboard's banners about this unsecured
    /// development setup (no dev certificate, an open OTLP endpoint) come and go while the page loads: hidden, so the
    /// pictures show BatchAspire and not when a banner happened to arrive.
    /// </summary>
    public async Task ScreenshotAsync(IPage page, string name)
    {
        await page.AddStyleTagAsync(new PageAddStyleTagOptions { Content = ".messagebar-container { display: none !important; }" });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name), Type = ScreenshotType.Png });
    }

    /// <summary>A JSONL stream of small chat requests with ids <c>{prefix}-{i}</c>.</summary>
    private static MemoryStream Requests(int count, string prefix) =>
        new(TestJsonl.File([.. Enumerable.Range(0, count).Select(i => TestJsonl.Request($"{prefix}-{i}", model: "gpt-5-nano", content: "Classify: I love it"))]));

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        if (App is not null)
        {
            await App.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
            await App.DisposeAsync();
        }
        try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { }
    }
}
