namespace BatchAspire.EndToEnd.Tests;

/// <summary>Finds the processes an AppHost run started for its local servers, by their data folder.</summary>
internal static class ServerProcesses
{
    /// <summary>
    /// Ids of live processes whose working directory or environment points into <paramref name="dataDirectory"/>
    /// (redis-server rewrites its command line, so the command line alone would miss it).
    /// </summary>
    public static IReadOnlyList<int> UnderDataDirectory(string dataDirectory)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                var cwd = new FileInfo(Path.Combine(directory, "cwd")).LinkTarget ?? "";
                var environment = File.ReadAllText(Path.Combine(directory, "environ"));
                if (cwd.StartsWith(dataDirectory, StringComparison.Ordinal) || environment.Contains(dataDirectory, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    public static string Describe(int pid)
    {
        try { return $"{pid}: {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}"; }
        catch (IOException) { return $"{pid}: (gone)"; }
    }
}
