using BatchAspire.Core.Files;
using BatchAspire.Core.Redis;
using StackExchange.Redis;

namespace BatchAspire.Core.Results;

/// <summary>What to assemble.</summary>
/// <param name="UnansweredCode">
/// For a cancelled or expired job: the error code (<c>batch_cancelled</c>, <c>batch_expired</c>) written for every
/// request without a final result. Null for a completed job, where every request must have one.
/// </param>
public sealed record AssemblyRequest(string JobId, string Tenant, long Total, string InputFileId, long? ExpiresAt, string? UnansweredCode);

/// <summary>The files written; an id is null when its file would have been empty (and so was not created).</summary>
public sealed record AssembledFiles(string? OutputFileId, string? ErrorFileId, long OutputLines, long ErrorLines);

/// <summary>
/// Writes a job's output file (successes) and error file (failures) in the job's input order, streaming: results
/// are read by ascending line index with HMGET, several batches in flight at once, and each line is copied once,
/// into the file writer's segment. The failure bitmap says which file a line goes to without parsing it.
/// </summary>
public sealed class JobAssembler(IConnectionMultiplexer redis, IFileStore files)
{
    /// <summary>Results per HMGET.</summary>
    public int BatchSize { get; init; } = 1000;

    /// <summary>HMGETs in flight while the writer works through the oldest.</summary>
    public int Window { get; init; } = 6;

    public async Task<AssembledFiles> WriteAsync(AssemblyRequest request, CancellationToken ct)
    {
        var db = redis.GetDatabase();
        var resultsKey = RedisKeys.JobResults(request.JobId);
        byte[] failures = (byte[]?)await db.StringGetAsync(RedisKeys.JobFailures(request.JobId)) ?? [];

        await using var output = files.CreateWriter(request.Tenant, $"{request.JobId}_output.jsonl", FilePurposes.BatchOutput, request.ExpiresAt);
        await using var errors = files.CreateWriter(request.Tenant, $"{request.JobId}_error.jsonl", FilePurposes.BatchOutput, request.ExpiresAt);
        await using var inputLines = request.UnansweredCode is null
            ? null
            : files.ReadLinesAsync(request.InputFileId, 0, request.Total, ct).GetAsyncEnumerator(ct);
        long inputPosition = -1;

        var inFlight = new Queue<(long First, Task<RedisValue[]> Values)>();
        long next = 0;
        void Fill()
        {
            while (inFlight.Count < Window && next < request.Total)
            {
                var count = (int)Math.Min(BatchSize, request.Total - next);
                var fields = new RedisValue[count];
                for (var i = 0; i < count; i++) fields[i] = next + i;
                inFlight.Enqueue((next, db.HashGetAsync(resultsKey, fields)));
                next += count;
            }
        }

        Fill();
        while (inFlight.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (first, task) = inFlight.Dequeue();
            var values = await task;
            Fill();
            for (var i = 0; i < values.Length; i++)
            {
                var index = first + i;
                var value = values[i];
                if (value.IsNull)
                {
                    if (request.UnansweredCode is not { } code)
                        throw new InvalidOperationException($"Line {index} of job {request.JobId} has no final result.");
                    while (inputPosition < index)
                    {
                        if (!await inputLines!.MoveNextAsync()) throw new InvalidOperationException($"Input file of job {request.JobId} has fewer than {index + 1} lines.");
                        inputPosition++;
                    }
                    var customId = ResultLine.CustomIdOfRequest(inputLines!.Current.Span);
                    await errors.WriteLineAsync(ResultLine.Unanswered(customId, code, ResultLine.MessageFor(code)), ct);
                }
                else if (IsSet(failures, index))
                {
                    await errors.WriteLineAsync(value, ct);
                }
                else
                {
                    await output.WriteLineAsync(value, ct);
                }
            }
        }

        var outputFile = output.Lines > 0 ? await output.CommitAsync(ct) : null;
        var errorFile = errors.Lines > 0 ? await errors.CommitAsync(ct) : null;
        return new AssembledFiles(outputFile?.Id, errorFile?.Id, output.Lines, errors.Lines);
    }

    // Redis bitmaps number bits from the most significant bit of byte 0.
    private static bool IsSet(byte[] bitmap, long index)
    {
        var offset = index >> 3;
        return offset < bitmap.Length && (bitmap[offset] & (0x80 >> (int)(index & 7))) != 0;
    }
}
