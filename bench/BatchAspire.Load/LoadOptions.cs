namespace BatchAspire.Load;

internal sealed record LoadOptions(int Requests, int LinesPerFile, bool Short, TimeSpan Bound, bool SkipBaseline = false)
{
    /// <summary>AppHost settings given as <c>Section:Key=Value</c> arguments (e.g. <c>Results:ConcurrentChunks=8</c>), to compare knobs.</summary>
    public IReadOnlyList<string> AppHostSettings { get; init; } = [];

    /// <summary>Requests of the untimed warm-up job on each side.</summary>
    public int WarmUpRequests => Short ? 2_000 : 20_000;

    public static LoadOptions Parse(string[] args)
    {
        var isShort = args.Contains("--short");
        var requests = isShort ? 20_000 : 1_000_000;
        var linesPerFile = isShort ? 5_000 : 50_000;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--requests") requests = int.Parse(args[i + 1]);
            if (args[i] == "--lines-per-file") linesPerFile = int.Parse(args[i + 1]);
        }
        // --no-baseline: BatchAspire only, for profiling (the report then has no ratio).
        return new LoadOptions(requests, linesPerFile, isShort, isShort ? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(30), args.Contains("--no-baseline"))
        {
            AppHostSettings = [.. args.Where(a => !a.StartsWith('-') && a.Contains(':') && a.Contains('='))],
        };
    }
}
