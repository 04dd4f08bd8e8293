using System.Diagnostics;

namespace BatchAspire.Testing;

/// <summary>
/// A real, small filesystem (tmpfs of a given size, mounted on a fresh folder) for tests of a full disk: writes past its
/// size fail with ENOSPC as on any full disk. Needs root (CI and the developers' machines run as root); a machine where
/// the mount is refused fails the test rather than skipping it.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private SmallDisk(string path) => Path = path;

    public string Path { get; }

    public static SmallDisk Mount(long bytes)
    {
        var path = Directory.CreateTempSubdirectory("batchaspire-small-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", path);
        return new SmallDisk(path);
    }

    /// <summary>Fills what is left with a file of zeros (until the disk says it is full); returns the file, to delete when room is wanted again.</summary>
    public string Fill()
    {
        var filler = System.IO.Path.Combine(Path, $"filler-{Guid.NewGuid():N}");
        var block = new byte[64 * 1024];
        using var stream = new FileStream(filler, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true) stream.Write(block);
        }
        catch (IOException)
        {
            // Full: that is the point.
        }
        return filler;
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command} did not start.");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error}");
    }
}
