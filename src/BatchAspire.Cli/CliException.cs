namespace BatchAspire.Cli;

/// <summary>A failure the tool explains in one message and ends with <see cref="ExitCode"/>, without a stack trace.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
