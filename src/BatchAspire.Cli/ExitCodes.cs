namespace BatchAspire.Cli;

/// <summary>The tool's exit codes (docs/monitoring.md, "Command line").</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The batch ended failed, expired or cancelled (<c>submit</c>, with or without <c>--wait</c>).</summary>
    public const int BatchNotCompleted = 1;

    /// <summary>Bad arguments or configuration: an unknown option, no API key, a base URL that is not a URL.</summary>
    public const int Usage = 2;

    /// <summary>The input file is missing, unreadable or not valid JSONL (checked before anything is uploaded).</summary>
    public const int BadInputFile = 3;

    /// <summary>The server answered with an error (unknown id, bad request, refused key, rate limit, server error).</summary>
    public const int ApiError = 4;

    /// <summary>The server could not be reached (connection refused, name not found, timed out).</summary>
    public const int Unreachable = 5;

    /// <summary><c>download</c>: the batch has no output or error file (yet).</summary>
    public const int NothingToDownload = 6;

    /// <summary><c>submit --wait</c> gave up after <c>--timeout</c>; the batch goes on.</summary>
    public const int WaitTimedOut = 7;

    /// <summary>A failure the tool did not expect (a bug): reported in one line like the others.</summary>
    public const int Unexpected = 70;

    /// <summary>Ctrl+C: the tool stopped (waiting); the batch goes on.</summary>
    public const int Interrupted = 130;
}
