using System.Reflection;
using System.Text.RegularExpressions;
using BatchAspire.Core.Redis;

namespace BatchAspire.Core.Tests.Redis;

public sealed partial class RedisScriptTests
{
    private static readonly Assembly Core = typeof(RedisScript).Assembly;

    [Fact]
    public void EveryEmbeddedScriptLoadsWithItsIncludesExpandedOnce()
    {
        Assert.NotEmpty(RedisScript.Names(Core));
        foreach (var name in RedisScript.Names(Core))
        {
            var script = RedisScript.Load(name);
            Assert.DoesNotContain("--#include", script.Text);
            foreach (var function in LocalFunction().Matches(script.Text).Select(m => m.Groups[1].Value).GroupBy(f => f))
            {
                Assert.True(function.Count() == 1, $"{name}: function {function.Key} is defined {function.Count()} times");
            }
        }
    }

    [Fact]
    public void AnUnknownScriptNameFailsWithItsPath()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RedisScript.Load("no/such_script"));
        Assert.Contains("Redis/Lua/no/such_script.lua", error.Message);
    }

    [Fact]
    public void EveryScriptSaysWhatItDoesAndNamesItsKeysAndArguments()
    {
        Assert.NotEmpty(LuaSources.Scripts);
        foreach (var (path, text) in LuaSources.Scripts)
        {
            var header = text.Split('\n').TakeWhile(l => l.StartsWith("--", StringComparison.Ordinal)).ToList();
            Assert.True(header.Count > 0 && !header[0].StartsWith("-- KEYS", StringComparison.Ordinal), $"{path}: starts with a comment saying what it does");
            Assert.True(header.Any(l => l.StartsWith("-- KEYS:", StringComparison.Ordinal)), $"{path}: names its KEYS in the header");
            Assert.True(header.Any(l => l.StartsWith("-- ARGV:", StringComparison.Ordinal)), $"{path}: names its ARGV in the header");
            Assert.True(header.Any(l => l.StartsWith("-- Returns:", StringComparison.Ordinal)), $"{path}: says what it returns");
        }
    }

    [Fact]
    public void ScriptsTouchOnlyKeysPassedInKeys()
    {
        foreach (var (path, text) in LuaSources.All)
        {
            // A key is KEYS[n], a name bound to one, or (in a library function) a parameter its caller fills from KEYS.
            var fromKeys = KeyLocal().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            fromKeys.UnionWith(FunctionParameters().Matches(text).SelectMany(m => m.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries)));
            foreach (var call in LuaSources.Calls(text))
            {
                var command = call[0].Trim('\'', '"');
                if (command is "TIME") continue;
                var key = call.Count > 1 ? call[1] : "";
                Assert.True(key.StartsWith("KEYS[", StringComparison.Ordinal) || fromKeys.Contains(key),
                    $"{path}: redis.call('{command}', {key}, ...) names a key that did not come in KEYS");
            }
        }
    }

    [Fact]
    public void EveryHashFieldAScriptNamesIsDeclaredInCSharp()
    {
        var declared = Core.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var (path, text) in LuaSources.All)
        {
            foreach (var call in LuaSources.Calls(text))
            {
                var command = call[0].Trim('\'', '"');
                if (!command.StartsWith('H')) continue;
                foreach (var literal in call.Skip(2).Where(a => a.StartsWith('\'') && a.EndsWith('\'')).Select(a => a.Trim('\'')))
                {
                    Assert.True(declared.Contains(literal), $"{path}: {command} names '{literal}', which no C# constant of BatchAspire.Core declares");
                }
            }
        }
    }

    [GeneratedRegex(@"local function \w+\(([^)]*)\)")]
    private static partial Regex FunctionParameters();

    [GeneratedRegex(@"local function (\w+)")]
    private static partial Regex LocalFunction();

    // local chunk = KEYS[2]  /  spec.hash = KEYS[9 + f]
    [GeneratedRegex(@"(?:local\s+)?([\w.]+)\s*=\s*KEYS\[")]
    private static partial Regex KeyLocal();
}
