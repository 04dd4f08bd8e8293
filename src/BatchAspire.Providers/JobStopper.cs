using BatchAspire.Contracts;
using BatchAspire.Core.Chunks;
using BatchAspire.Core.Faults;
using BatchAspire.Core.Jobs;
using MassTransit;

namespace BatchAspire.Providers;

/// <summary>
/// Stops a job's chunks for a user cancel (submitter) or an expiry (results): chunks without a provider batch are
/// closed — they will never get one — and announced with <see cref="ChunkClosed"/>, so
/// results can count them done; open provider batches are cancelled, and the poller publishes their
/// <see cref="ChunkFinished"/> when the provider has ended them with their partial output. Idempotent: closed
/// chunks are announced again (results ignores what it has), and cancelling an ended batch is a no-op.
/// </summary>
public sealed class JobStopper(ChunkStore chunks, ProviderDirectory providers)
{
    /// <summary>The close reason and chunk status for a user cancel.</summary>
    public static readonly (string Reason, string Status) Cancel = ("batch_cancelled", JobStatus.Cancelled);

    /// <summary>The close reason and chunk status for a job past its completion window.</summary>
    public static readonly (string Reason, string Status) Expiry = ("batch_expired", JobStatus.Expired);

    public async Task<StopSummary> StopAsync(string jobId, (string Reason, string Status) why, IPublishEndpoint publish, CancellationToken ct)
    {
        int closed = 0, cancelled = 0;
        foreach (var chunkId in await chunks.ListAsync(jobId))
        {
            var outcome = await chunks.CloseIfUnsubmittedAsync(chunkId, why.Reason, why.Status);
            switch (outcome.Result)
            {
                case CloseResult.Closed:
                    closed++;
                    await publish.Publish(new ChunkClosed { JobId = jobId, ChunkId = chunkId }, ct);
                    break;
                case CloseResult.Submitted when !JobStatus.IsTerminal(outcome.Detail) && outcome.Detail != JobStatus.Cancelling:
                    var provider = (await chunks.GetAsync(chunkId))?.Provider;
                    if (await TryCancelAsync(provider, outcome.ProviderBatchId!, ct)) cancelled++;
                    break;
            }
        }
        return new StopSummary(closed, cancelled);
    }

    /// <summary>
    /// Cancels a batch at the chunk's provider (<paramref name="provider"/>: the name on the chunk, null for the default);
    /// false when the provider says it cannot be cancelled (it has ended). Transient errors throw.
    /// </summary>
    public async Task<bool> TryCancelAsync(string? provider, string providerBatchId, CancellationToken ct)
    {
        try
        {
            var at = providers.Get(provider);
            if (at.Anthropic is { } anthropic) await anthropic.CancelAsync(providerBatchId, ct);
            else await at.Commands!.CancelBatchAsync(providerBatchId, ct);
            return true;
        }
        catch (ProviderCallException exception) when (FaultRule.Classify(exception) == FaultKind.ProviderRejected)
        {
            // 409/400: already terminal; 404: gone. Either way there is nothing left to cancel.
            return false;
        }
    }
}

/// <param name="ChunksClosed">Chunks that will never be submitted.</param>
/// <param name="BatchesCancelled">Provider batches asked to cancel.</param>
public sealed record StopSummary(int ChunksClosed, int BatchesCancelled);
