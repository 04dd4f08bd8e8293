using System.Globalization;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Input;

namespace BatchAspire.Cli.Output;

/// <summary>How a batch reads in one line or one field: the same words in the progress display, status and list.</summary>
public static class BatchText
{
    public static string Requests(BatchView batch) =>
        batch.Total > 0
            ? $"{batch.Finished:N0}/{batch.Total:N0} ({Percent(batch):0}%), done {batch.Completed:N0}, failed {batch.Failed:N0}"
            : $"done {batch.Completed:N0}, failed {batch.Failed:N0}";

    public static double Percent(BatchView batch) => batch.Total > 0 ? 100.0 * batch.Finished / batch.Total : 0;

    public static string? Chunks(BatchView batch)
    {
        if (batch.Chunks is not { } chunks) return null;
        var parts = new List<string>();
        if (chunks.Open is { } open) parts.Add($"{open:N0} open");
        if (chunks.Done is { } done) parts.Add($"{done:N0} done");
        var text = string.Join(", ", parts);
        return chunks.Total is { } total ? (text.Length > 0 ? $"{text} of {total:N0}" : $"{total:N0}") : text.Length > 0 ? text : null;
    }

    public static string? Cost(BatchView batch) =>
        batch.CostUsd is not { } cost ? null
        : batch.StandardCostUsd is { } standard && standard > cost
            ? $"{Usd(cost)} (standard {Usd(standard)}, saved {Usd(standard - cost)})"
            : Usd(cost);

    /// <summary>A provider's share of a routed batch: "2,412 done, 0 failed, $0.0123".</summary>
    public static string Share(ProviderShare share)
    {
        var parts = new List<string>();
        if (share.Completed is { } completed) parts.Add($"{completed:N0} done");
        if (share.Failed is { } failed) parts.Add($"{failed:N0} failed");
        if (share.CostUsd is { } cost) parts.Add(Usd(cost));
        return string.Join(", ", parts);
    }

    public static string Usd(double value) => "$" + value.ToString(value != 0 && Math.Abs(value) < 0.01 ? "0.######" : "0.00", CultureInfo.InvariantCulture);

    public static string Created(BatchView batch) =>
        batch.CreatedAt is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : "";

    public static string Problem(BatchProblem problem) =>
        (problem.Line is { } line ? $"line {line}: " : "") + (problem.Code is { } code ? $"{code}: " : "") + problem.Message;

    /// <summary>The progress line: status, requests, elapsed and time left, then chunks and cost where the server reports them.</summary>
    public static string ProgressLine(BatchView batch, TimeSpan elapsed, TimeSpan? left)
    {
        var parts = new List<string> { batch.Status, Requests(batch), $"elapsed {Duration.Format(elapsed)}" };
        if (!batch.IsTerminal) parts.Add(left is { } l ? $"left ~{Duration.Format(l)}" : "left ?");
        if (Chunks(batch) is { } chunks) parts.Add($"chunks {chunks}");
        if (batch.CostUsd is { } cost) parts.Add($"cost {Usd(cost)}");
        return string.Join("  ", parts);
    }
}
