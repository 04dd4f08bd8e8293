using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace BatchAspire.Dashboard.Tests;

/// <summary>
/// What a user sees in the Aspire dashboard, in a real browser: a job found by its batch id under "jobs" with its
/// progress and chunks, its trace found by the batch id, and the open-jobs gauge on the metrics page. Each test saves
/// the screenshot docs/monitoring.md shows.
/// </summary>
public sealed partial class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task AJobIsFoundByItsBatchIdUnderJobsWithItsProgressAndChunks()
    {
        Report();
        var page = await fixture.NewPageAsync();
        var resourceName = fixture.CompletedBatchId.Replace('_', '-');

        await page.GotoAsync("/");
        // The resource list filters on names; a job's name is its batch id with '-' for '_'.
        await Search(page).FillAsync(resourceName);
        var row = page.Locator("tr.resource-row", new() { HasText = resourceName });
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Completed");
        await row.GetByText(resourceName).ClickAsync();
        // A job's own properties are not among Aspire's known ones: "Show all properties" lists them.
        await page.Locator(".resource-details-actions").ClickAsync();
        await page.GetByText("Show all properties").ClickAsync();

        var details = page.Locator(".resource-details-layout");
        await Expect(PropertyRow(details, "batchaspire.batch_id")).ToContainTextAsync(fixture.CompletedBatchId);
        await Expect(PropertyRow(details, "batchaspire.progress")).ToContainTextAsync(
            $"{DashboardFixture.CompletedRequests}/{DashboardFixture.CompletedRequests} final (0 failed)");
        await Expect(PropertyRow(details, "batchaspire.chunks")).ToContainTextAsync("4/4 done (0 open)");
        await Expect(PropertyRow(details, "batchaspire.tenant")).ToContainTextAsync("dev");
        await fixture.ScreenshotAsync(page, "dashboard-job.png");
    }

    [Fact]
    public async Task AnOpenJobShowsItsOpenChunkUnderJobs()
    {
        var page = await fixture.NewPageAsync();
        var resourceName = fixture.OpenBatchId.Replace('_', '-');

        await page.GotoAsync("/");
        await Search(page).FillAsync("batch-");
        var row = page.Locator("tr.resource-row", new() { HasText = resourceName });
        await Expect(row).ToContainTextAsync("Validating");
        await row.GetByText(resourceName).ClickAsync();
        await page.Locator(".resource-details-actions").ClickAsync();
        await page.GetByText("Show all properties").ClickAsync();

        var details = page.Locator(".resource-details-layout");
        await Expect(PropertyRow(details, "batchaspire.chunks")).ToContainTextAsync("0/1 done (1 open)");
        await Expect(PropertyRow(details, "batchaspire.chunks_open")).ToContainTextAsync("1");
        await fixture.ScreenshotAsync(page, "dashboard-jobs.png");
    }

    [Fact]
    public async Task TheJobsTraceIsFoundByItsBatchId()
    {
        var page = await fixture.NewPageAsync();

        await page.GotoAsync("/traces");
        await Search(page).FillAsync(fixture.CompletedBatchId);
        var trace = page.GetByText($"batch {fixture.CompletedBatchId}");
        await Expect(trace).ToHaveCountAsync(1);
        await fixture.ScreenshotAsync(page, "dashboard-traces.png");
        await trace.ClickAsync();

        // The job's trace: named by the batch id, with a span per stage from the intake through the submitter and
        // poller to results. It holds a few hundred spans and the waterfall draws only what is on screen: the span
        // filter finds each stage.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"intake: batch {fixture.CompletedBatchId}" })).ToBeVisibleAsync();
        await Expect(SpanRow(page, "intake: validate")).ToBeVisibleAsync();
        await fixture.ScreenshotAsync(page, "dashboard-trace.png");
        var spanFilter = page.GetByRole(AriaRole.Searchbox).First;
        foreach (var span in new[] { "submitter: plan job", "submitter: submit chunk", "poller: provider running",
                     "results: process chunk results", "results: assemble job" })
        {
            await spanFilter.FillAsync(span[(span.IndexOf(':') + 2)..]);
            await Expect(SpanRow(page, span)).ToBeVisibleAsync();
        }
    }

    [Fact]
    public async Task TheOpenJobsGaugeCountsTheJobStillOpen()
    {
        var page = await fixture.NewPageAsync();

        await page.GotoAsync("/metrics/resource/intake?meter=BatchAspire.Operations&instrument=batchaspire.jobs.open&view=Table");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "batchaspire.jobs.open" })).ToBeVisibleAsync();
        // The newest row of the table (the table lists the newest first): one job is open, the one the Sandbox holds.
        // Rows before it may read more: a row sums each status's highest value over its time span, and the first job
        // passed through several statuses within one.
        var newest = page.Locator("#metric-table-container tbody tr[role=row]").First;
        await Expect(newest.Locator("td[col-index='2']")).ToHaveTextAsync(new Regex(@"^\s*1(\D|$)"));
        await fixture.ScreenshotAsync(page, "dashboard-metrics.png");
    }

    /// <summary>A span of the trace's waterfall, by its name ("resource: span"); a replica's name has a suffix (poller-abc1).</summary>
    private static ILocator SpanRow(IPage page, string name)
    {
        var colon = name.IndexOf(':');
        var pattern = "^" + Regex.Escape(name[..colon]) + "(-[a-z0-9]+)?" + Regex.Escape(name[colon..]) + " ";
        return page.GetByRole(AriaRole.Row, new() { NameRegex = new Regex(pattern) }).First;
    }

    /// <summary>The page's filter box (the text box inside Fluent UI's search component).</summary>
    private static ILocator Search(IPage page) => page.Locator("fluent-text-input[placeholder='Filter...'] input").First;

    /// <summary>A row of the details' property grid, by the property's name.</summary>
    private static ILocator PropertyRow(ILocator details, string name) =>
        details.Locator("tr", new() { Has = details.Page.GetByText(name, new() { Exact = true }) });

    private void Report()
    {
        foreach (var line in fixture.Timings) TestContext.Current.TestOutputHelper?.WriteLine(line);
    }
}
