using System.Globalization;
using BatchAspire.Core.Files;

namespace BatchAspire.Core.Results;

/// <summary>Which of the job's files a run's lines go to.</summary>
public enum RunKind { Output, Error }

/// <summary>
/// A recorded result run: <paramref name="Lines"/> final result lines (<paramref name="Bytes"/> bytes with their '\n')
/// in ascending line order, from line <paramref name="First"/> to <paramref name="Last"/>, kept in the blob store as a
/// <see cref="LinePart"/> of <paramref name="Segments"/> segments, with each line's index in the job.
/// </summary>
public sealed record ResultRun(string JobId, string RunId, RunKind Kind, long Lines, long Bytes, long First, long Last, int Segments)
{
    public string Prefix => BlobPrefixes.ResultRun(JobId, RunId);

    public LinePart Part => new(Prefix, Lines, Bytes, Segments);

    /// <summary>The chunk-hash form: "id lines bytes first last segments".</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{RunId} {Lines} {Bytes} {First} {Last} {Segments}");

    public static ResultRun? Parse(string jobId, RunKind kind, string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parts = text.Split(' ');
        if (parts.Length != 6) throw new FormatException($"Result run '{text}' of job {jobId} is malformed.");
        long At(int i) => long.Parse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture);
        return new ResultRun(jobId, parts[0], kind, At(1), At(2), At(3), At(4), checked((int)At(5)));
    }
}
