using System.Diagnostics;
using BatchAspire.Cli.Api;
using BatchAspire.Cli.Input;
using Spectre.Console;

namespace BatchAspire.Cli.Output;

/// <summary>
/// Polls a batch until it ends, showing its progress on the error console: a live Spectre progress bar in a terminal,
/// plain progress lines (one per change) anywhere else. Every wait is bounded by <c>timeout</c>; Ctrl+C cancels the
/// token and only stops the waiting, never the batch.
/// </summary>
public sealed class BatchWatch(BatchApi api, CliHost host, TimeSpan interval, TimeSpan timeout)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private (TimeSpan At, long Finished)? _first;

    public Task<BatchView> WaitAsync(BatchView batch, CancellationToken ct) =>
        // Redrawing in place needs a terminal: stderr sent to a file or a pipe gets lines even from an interactive shell.
        host.Error.Profile.Capabilities is { Interactive: true, Ansi: true } ? LiveAsync(batch, ct) : LinesAsync(batch, ct);

    private async Task<BatchView> LinesAsync(BatchView batch, CancellationToken ct)
    {
        string? last = null;
        while (true)
        {
            // Elapsed and the estimate change on every poll; a line is worth printing only when the batch moved.
            var key = $"{batch.Status}|{batch.Completed}|{batch.Failed}|{batch.Total}|{BatchText.Chunks(batch)}|{batch.CostUsd}";
            var left = Estimate(batch);
            if (key != last) host.Error.WriteLine(BatchText.ProgressLine(batch, _clock.Elapsed, left));
            last = key;
            if (batch.IsTerminal) return batch;
            batch = await NextAsync(batch.Id, ct);
        }
    }

    private Task<BatchView> LiveAsync(BatchView batch, CancellationToken ct) =>
        host.Error.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(batch.Id);
                while (true)
                {
                    task.IsIndeterminate = batch.Total == 0 && !batch.IsTerminal;
                    task.MaxValue = Math.Max(1, batch.Total);
                    task.Value = batch.IsTerminal && batch.Total == 0 ? task.MaxValue : batch.Finished;
                    task.Description = Markup.Escape(BatchText.ProgressLine(batch, _clock.Elapsed, Estimate(batch)));
                    context.Refresh();
                    if (batch.IsTerminal)
                    {
                        task.StopTask();
                        return batch;
                    }
                    batch = await NextAsync(batch.Id, ct);
                }
            });

    private async Task<BatchView> NextAsync(string batchId, CancellationToken ct)
    {
        var remaining = timeout - _clock.Elapsed;
        if (remaining <= TimeSpan.Zero)
        {
            throw new CliException(ExitCodes.WaitTimedOut,
                $"Stopped waiting after {Duration.Format(timeout)}; the batch goes on (batchaspire status {batchId}).");
        }
        await Task.Delay(interval < remaining ? interval : remaining, ct);
        return (await api.GetAsync(batchId, ct)).View;
    }

    /// <summary>Time left at the rate requests have finished since the first poll; unknown until some have.</summary>
    private TimeSpan? Estimate(BatchView batch)
    {
        var now = _clock.Elapsed;
        _first ??= (now, batch.Finished);
        var (at, finished) = _first.Value;
        var done = batch.Finished - finished;
        if (done <= 0 || batch.Total <= 0 || now <= at) return null;
        var perRequest = (now - at) / done;
        return perRequest * Math.Max(0, batch.Total - batch.Finished);
    }
}
