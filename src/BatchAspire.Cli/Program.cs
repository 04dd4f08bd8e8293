namespace BatchAspire.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var ctrlC = CtrlC.StopsWaiting();
        return await BatchAspireApp.RunAsync(args, CliHost.FromProcess(), ctrlC.Token);
    }
}
