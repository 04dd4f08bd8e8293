using BatchAspire.Core.Files;
using BatchAspire.Core.Jsonl;

namespace BatchAspire.Intake.Batches;

/// <summary>
/// The asynchronous validation of docs/openai/batches.md §6.2, run at create time on the file's line analysis (made by the first batch on it):
/// the file's own line errors plus the checks that depend on the endpoint (url, model). A non-empty
/// result makes the batch <c>failed</c> at once.
/// </summary>
internal static class InputFileCheck
{
    private const int MaxReported = 100;

    public static IReadOnlyList<LineError> Evaluate(StoredFile file, FileAnalysis analysis, string endpoint, long maxRequests)
    {
        if (file.Lines == 0)
            return [new LineError(LineErrorCodes.EmptyFile, "The input file is empty: it has no request lines.", null, null)];

        var errors = new List<LineError>(analysis.Errors);
        if (file.Lines > maxRequests)
            errors.Add(new LineError(LineErrorCodes.TooManyTasks,
                $"The input file has {file.Lines} requests; a batch may have at most {maxRequests}.", null, null));

        foreach (var url in analysis.Urls.Where(u => u.Value != endpoint))
            errors.Add(new LineError(LineErrorCodes.UrlMismatch,
                $"The URL provided for this request does not prefix-match the batch endpoint '{endpoint}'.", "url", url.Line));

        if (analysis.Models.Count > 1)
        {
            var (first, second) = (analysis.Models[0], analysis.Models[1]);
            errors.Add(new LineError(LineErrorCodes.ModelMismatch,
                $"A batch input file may use only one model: line {first.Line} uses '{LineError.Shorten(first.Value)}' and this line uses '{LineError.Shorten(second.Value)}'.",
                "body.model", second.Line));
        }
        if (analysis.ModelMissingLine is { } missing && CreateBatchRequestParser.Endpoints[endpoint])
            errors.Add(LineError.Missing(missing, "body.model"));

        errors.Sort(static (a, b) => Nullable.Compare(a.Line, b.Line));
        return errors.Count > MaxReported ? errors[..MaxReported] : errors;
    }
}
