using System.Text.RegularExpressions;
using BatchAspire.Testing;

namespace BatchAspire.Core.Tests.Redis;

/// <summary>The repository's Lua scripts and the <c>redis.call</c>s in them, read from the sources (every project's Redis/Lua folder).</summary>
internal static partial class LuaSources
{
    public static IReadOnlyList<(string Path, string Text)> All { get; } =
    [
        .. Directory.EnumerateFiles(RepoPaths.Src, "*.lua", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Order(StringComparer.Ordinal)
            .Select(p => (Path.GetRelativePath(RepoPaths.Root, p), File.ReadAllText(p))),
    ];

    /// <summary>Scripts Redis runs (library files under <c>lib/</c> are only included).</summary>
    public static IEnumerable<(string Path, string Text)> Scripts =>
        All.Where(s => !s.Path.Contains($"{Path.DirectorySeparatorChar}lib{Path.DirectorySeparatorChar}"));

    /// <summary>Each <c>redis.call(...)</c> of a script, as its arguments' source text (comments and strings respected).</summary>
    public static IEnumerable<IReadOnlyList<string>> Calls(string text)
    {
        var code = StripComments(text);
        foreach (Match match in CallStart().Matches(code))
        {
            var args = new List<string>();
            var depth = 0;
            var start = match.Index + match.Length;
            var i = start;
            for (; i < code.Length; i++)
            {
                var c = code[i];
                if (c == '\'' || c == '"')
                {
                    var quote = c;
                    for (i++; i < code.Length && code[i] != quote; i++) if (code[i] == '\\') i++;
                    continue;
                }
                if (c is '(' or '{' or '[') depth++;
                else if (c is ')' or '}' or ']')
                {
                    if (depth == 0) break;
                    depth--;
                }
                else if (c == ',' && depth == 0)
                {
                    args.Add(code[start..i].Trim());
                    start = i + 1;
                }
            }
            args.Add(code[start..i].Trim());
            yield return args;
        }
    }

    private static string StripComments(string text) =>
        string.Join('\n', text.Split('\n').Select(line => line.TrimStart().StartsWith("--", StringComparison.Ordinal) ? "" : TrailingComment().Replace(line, "")));

    [GeneratedRegex(@"redis\.call\(")]
    private static partial Regex CallStart();

    // A trailing "-- ..." outside a string (scripts keep quotes out of trailing comments).
    [GeneratedRegex(@"\s--[^'""]*$")]
    private static partial Regex TrailingComment();
}
