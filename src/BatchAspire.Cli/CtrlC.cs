namespace BatchAspire.Cli;

/// <summary>
/// The first Ctrl+C cancels the running command's token instead of killing the process, so a
/// <c>submit --wait</c> can say that it stopped waiting and that the batch goes on; a second one ends the process.
/// </summary>
internal sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _source = new();

    private CtrlC() => Console.CancelKeyPress += OnCancelKeyPress;

    public CancellationToken Token => _source.Token;

    public static CtrlC StopsWaiting() => new();

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested) return;
        e.Cancel = true;
        _source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancelKeyPress;
        _source.Dispose();
    }
}
