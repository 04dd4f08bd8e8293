using System.Threading.Channels;
using BatchAspire.Sandbox.Storage;
using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Batches;

/// <summary>
/// Works on up to <c>Sandbox:MaxConcurrentBatches</c> batches at a time. At start it picks up every
/// batch a previous run left unfinished, so a restart resumes them.
/// </summary>
public sealed class BatchRunner(
    BatchStore batches,
    BatchProcessor processor,
    EnqueuedTokens enqueued,
    IOptions<SandboxOptions> options,
    ILogger<BatchRunner> logger) : BackgroundService
{
    private readonly Channel<BatchState> _queue = Channel.CreateUnbounded<BatchState>();

    public void Enqueue(BatchState batch) => _queue.Writer.TryWrite(batch);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var batch in batches.Unfinished())
        {
            if (batch.InProgressAt is not null && batch.ReservedTokens > 0 && batch.EndStatus is null)
            {
                enqueued.Add(batch.Model ?? "", batch.ReservedTokens);
            }
            SandboxLog.BatchResumed(logger, batch.Id, batch.Status, batch.OutputLines + batch.ErrorLines);
            Enqueue(batch);
        }

        var slots = new SemaphoreSlim(Math.Max(1, options.Value.MaxConcurrentBatches));
        var running = new HashSet<Task>();
        try
        {
            await foreach (var batch in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await slots.WaitAsync(stoppingToken);
                var task = Task.Run(async () =>
                {
                    try
                    {
                        await processor.RunAsync(batch, stoppingToken);
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        // Shutting down: the batch resumes from its last checkpoint on the next start.
                    }
                    catch (Exception e)
                    {
                        SandboxLog.BatchCrashed(logger, e, batch.Id);
                        processor.FailUnexpectedly(batch);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None);
                lock (running)
                {
                    running.RemoveWhere(t => t.IsCompleted);
                    running.Add(task);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }

        Task[] remaining;
        lock (running) remaining = [.. running];
        await Task.WhenAll(remaining);
    }
}
