using System.Globalization;

namespace BatchAspire.Core.Files;

/// <summary>
/// Lines kept in the blob store under one name prefix (docs/architecture.md, "Storage"): an uploaded file, a result
/// run, or a piece of an assembled output file. <c>{prefix}.data</c> holds the bytes as written (each line followed by
/// '\n', except perhaps the last); <c>{prefix}.index</c> holds the byte length of every line (little-endian uint32,
/// line i at 4i) followed by the segment table: for every stretch of about a megabyte, its first line and byte
/// offset (two little-endian uint64), so a reader finds line n without reading the lengths from line 0. A result run
/// also has <c>{prefix}.lines</c>: each line's 0-based index in its job (little-endian uint32).
/// </summary>
public sealed record LinePart(string Prefix, long Lines, long Bytes, int Segments)
{
    public string DataBlob => Prefix + ".data";

    public string IndexBlob => Prefix + ".index";

    public string LineIndexesBlob => Prefix + ".lines";

    /// <summary>Every blob a part may have (deleting one that does not exist is harmless).</summary>
    public static string[] BlobsOf(string prefix) => [prefix + ".data", prefix + ".index", prefix + ".lines"];

    /// <summary>"prefix lines bytes segments".</summary>
    public string Format() => string.Create(CultureInfo.InvariantCulture, $"{Prefix} {Lines} {Bytes} {Segments}");

    public static LinePart Parse(string text)
    {
        var parts = text.Split(' ');
        if (parts.Length != 4) throw new FormatException($"Line part '{text}' is malformed.");
        long At(int i) => long.Parse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture);
        return new LinePart(parts[0], At(1), At(2), checked((int)At(3)));
    }

    /// <summary>A file's parts as its hash keeps them: formatted parts joined by ';'.</summary>
    public static string FormatAll(IEnumerable<LinePart> parts) => string.Join(';', parts.Select(p => p.Format()));

    public static IReadOnlyList<LinePart> ParseAll(string? text) =>
        string.IsNullOrEmpty(text) ? [] : [.. text.Split(';').Select(Parse)];
}

/// <summary>The blob name prefixes of BatchAspire's payload; every one is made from ids the services created.</summary>
public static class BlobPrefixes
{
    public static string File(string fileId) => $"files/{fileId}";

    public static string ResultRun(string jobId, string runId) => $"jobs/{jobId}/runs/{runId}";

    public static string AssemblyPart(string jobId, string token, int part) => $"jobs/{jobId}/assembly/{token}.{part}";
}
