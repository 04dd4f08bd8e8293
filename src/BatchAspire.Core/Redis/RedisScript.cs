using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using StackExchange.Redis;

namespace BatchAspire.Core.Redis;

/// <summary>
/// A Lua script shipped as an embedded <c>.lua</c> resource under <c>Redis/Lua/</c> (docs/architecture.md, "Redis
/// scripts"). One convention for all of them: a header comment says what the script does, its <c>KEYS</c> and its
/// <c>ARGV</c>; every key it touches comes in <c>KEYS</c>; a line <c>--#include lib/name.lua</c> pulls in a shared
/// library file (once per script, however often it is named). Each script is read and expanded once per process, and
/// StackExchange.Redis runs it by its SHA after the first call.
/// </summary>
public sealed class RedisScript
{
    private const string IncludeDirective = "--#include ";
    private const string ResourcePrefix = "lua/";
    private static readonly ConcurrentDictionary<(Assembly Assembly, string Name), RedisScript> Loaded = new();

    private RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
    }

    /// <summary>The script's path under <c>Redis/Lua/</c> without the extension, e.g. <c>due/claim</c>.</summary>
    public string Name { get; }

    /// <summary>The script as Redis receives it, includes expanded.</summary>
    public string Text { get; }

    /// <summary>A script of BatchAspire.Core.</summary>
    public static RedisScript Load(string name) => Load(typeof(RedisScript).Assembly, name);

    /// <summary>A script embedded in <paramref name="assembly"/> (a service's own scripts live in its project).</summary>
    public static RedisScript Load(Assembly assembly, string name) =>
        Loaded.GetOrAdd((assembly, name), key => new RedisScript(key.Name, Expand(key.Assembly, key.Name)));

    /// <summary>Every script embedded in <paramref name="assembly"/>, libraries included (names without the extension).</summary>
    public static IReadOnlyList<string> Names(Assembly assembly) =>
    [
        .. assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".lua", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^".lua".Length])
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The raw text of one embedded file (no include expanded), for checks over the sources.</summary>
    public static string Source(Assembly assembly, string name) => Read(assembly, name);

    /// <summary>A script from text rather than a resource, its includes expanded from <paramref name="assembly"/> (tests of the libraries).</summary>
    internal static RedisScript Inline(string text, Assembly? assembly = null)
    {
        var expanded = new StringBuilder();
        Append(assembly ?? typeof(RedisScript).Assembly, "(inline)", text, expanded, new HashSet<string>(StringComparer.Ordinal));
        return new RedisScript("(inline)", expanded.ToString());
    }

    public Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, params RedisValue[] args) =>
        database.ScriptEvaluateAsync(Text, keys, args);

    private static string Expand(Assembly assembly, string name)
    {
        var included = new HashSet<string>(StringComparer.Ordinal);
        var text = new StringBuilder();
        Append(assembly, name, Read(assembly, name), text, included);
        return text.ToString();
    }

    private static void Append(Assembly assembly, string name, string source, StringBuilder text, HashSet<string> included)
    {
        using var reader = new StringReader(source);
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith(IncludeDirective, StringComparison.Ordinal))
            {
                var library = line[IncludeDirective.Length..].Trim();
                if (!library.EndsWith(".lua", StringComparison.Ordinal))
                    throw new InvalidOperationException($"Lua script '{name}': '{line}' must name a .lua file.");
                if (included.Add(library)) Append(assembly, library, Read(assembly, library[..^".lua".Length]), text, included);
                continue;
            }
            text.Append(line).Append('\n');
        }
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream($"{ResourcePrefix}{name}.lua")
            ?? throw new InvalidOperationException($"No Lua script '{name}' is embedded in {assembly.GetName().Name} (Redis/Lua/{name}.lua).");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
