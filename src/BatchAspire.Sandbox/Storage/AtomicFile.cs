namespace BatchAspire.Sandbox.Storage;

internal static class AtomicFile
{
    /// <summary>Writes via a temp file and a rename, so a crash leaves either the old or the new content.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 0))
        {
            stream.Write(content);
        }
        File.Move(temp, path, overwrite: true);
    }
}
