using System.Text.RegularExpressions;

namespace BatchAspire.Core.Tests.Redis;

/// <summary>
/// One writer per record, read from the sources: each record kind's hash is written only by its library under
/// <c>Redis/Lua/lib/</c>, and Lua lives in <c>.lua</c> files, not in C# strings. The Lua rules cover the script
/// folders listed here, the C# rule every file of src/.
/// </summary>
public sealed partial class RecordWriterTests
{
    /// <summary>A record kind: what a script's <c>-- KEYS:</c> header calls its key, and the one library that writes it.</summary>
    private sealed record Record(string Phrase, string Library, string FunctionPrefix);

    private static readonly Record[] Records =
    [
        new("the job hash", "lib/job.lua", "job_"),
        new("the file hash", "lib/file.lua", "file_"),
        new("the tenant's usage", "lib/tenant.lua", "tenant_"),
        new("the chunk hash", "lib/chunk.lua", "chunk_"),
        new("the job's chunk counters", "lib/chunkstats.lua", "chunkstats_"),
        new("the webhook event", "lib/webhook_event.lua", "webhook_event_"),
        new("the partial output list", "lib/partial.lua", "partial_"),
    ];

    // Folders under Redis/Lua/ whose scripts follow the rule so far.
    private static readonly string[] CoveredFolders = ["lib", "jobs", "files", "due", "chunks", "poll", "results", "webhooks"];

    // Script folders whose scripts one C# class runs: that class is the record's one writer on the C# side.
    private static readonly (string Folder, string Runner)[] ScriptRunners =
    [
        ("jobs", "src/BatchAspire.Core/Jobs/RedisJobStore.cs"),
        ("files", "src/BatchAspire.Core/Files/FileRecords.cs"),
        ("chunks", "src/BatchAspire.Core/Chunks/ChunkStore.cs"),
        ("poll", "src/BatchAspire.Core/Polling/PollSchedule.cs"),
        ("results", "src/BatchAspire.Core/Results/ResultStore.cs"),
        ("webhooks", "src/BatchAspire.Core/Webhooks/WebhookEvents.cs"),
    ];

    private static readonly HashSet<string> WriteCommands = new(StringComparer.OrdinalIgnoreCase)
    {
        "HSET", "HSETNX", "HMSET", "HINCRBY", "HINCRBYFLOAT", "HDEL", "DEL", "UNLINK", "SET", "RENAME", "RENAMENX",
        "RPUSH", "LPUSH", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "COPY", "RESTORE",
    };

    [Fact]
    public void NoCSharpFileHoldsALuaScript()
    {
        var files = SourceFiles().ToList();
        Assert.Contains("src/BatchAspire.Core/Jobs/RedisJobStore.cs", files);
        foreach (var path in files)
        {
            var text = File.ReadAllText(Path.Combine(RepoPaths.Root, path));
            Assert.False(text.Contains("redis.call", StringComparison.Ordinal), $"{path} holds Lua (redis.call); it belongs in a .lua file under Redis/Lua/");
            Assert.False(text.Contains("LuaScript.Prepare", StringComparison.Ordinal), $"{path} prepares a LuaScript; load a .lua file with RedisScript");
        }
    }

    [Fact]
    public void OneClassRunsTheScriptsOfEachRecord()
    {
        var loads = SourceFiles()
            .SelectMany(path => ScriptLoad().Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, path))).Select(m => (Path: path, Folder: m.Groups[1].Value)))
            .ToList();
        foreach (var (folder, runner) in ScriptRunners)
        {
            Assert.Contains((runner, folder), loads);
            foreach (var load in loads.Where(l => l.Folder == folder))
            {
                Assert.True(load.Path == runner, $"{load.Path} runs a script of {folder}/; only {runner} may");
            }
        }
    }

    [Fact]
    public void TheRulesCoverScriptsThatExist()
    {
        foreach (var folder in CoveredFolders) Assert.Contains(Covered(), s => s.Folder == folder);
        foreach (var record in Records) Assert.Contains(Covered(), s => s.Name == record.Library[..^".lua".Length]);
    }

    [Fact]
    public void OnlyARecordsOwnLibraryWritesIt()
    {
        foreach (var (path, _, _, text) in Covered().Where(s => s.Folder != "lib"))
        {
            var keys = KeysHeader(text);
            var bound = KeyLocal().Matches(text).ToDictionary(m => m.Groups[1].Value, m => int.Parse(m.Groups[2].Value), StringComparer.Ordinal);
            foreach (var call in LuaSources.Calls(text))
            {
                var command = call[0].Trim('\'', '"');
                if (!WriteCommands.Contains(command) || call.Count < 2) continue;
                var index = KeyIndex(call[1], bound);
                var description = index is { } n ? keys.GetValueOrDefault(n, "") : "";
                foreach (var record in Records.Where(r => description.Contains(r.Phrase, StringComparison.OrdinalIgnoreCase)))
                {
                    Assert.Fail($"{path}: redis.call('{command}', {call[1]}, ...) writes {record.Phrase} itself; only {record.Library} may write it");
                }
            }
        }
    }

    [Fact]
    public void ALibraryWritesOnlyInFunctionsNamedForItsRecord()
    {
        foreach (var (path, name, _, text) in Covered().Where(s => s.Folder == "lib"))
        {
            var record = Records.SingleOrDefault(r => r.Library == name + ".lua");
            foreach (var (function, body) in Functions(text))
            {
                foreach (var call in LuaSources.Calls(body))
                {
                    var command = call[0].Trim('\'', '"');
                    if (!WriteCommands.Contains(command)) continue;
                    Assert.True(record is not null && function.StartsWith(record.FunctionPrefix, StringComparison.Ordinal),
                        $"{path}: {(function.Length == 0 ? "top-level code" : function)} writes with {command}; only {(record is null ? "a record's own library" : $"{record.FunctionPrefix}* functions")} may write");
                }
            }
        }
    }

    [Fact]
    public void AScriptPassesARecordsLibraryOnlyTheKeyItsHeaderNamesForThatRecord()
    {
        foreach (var (path, _, _, text) in Covered().Where(s => s.Folder != "lib"))
        {
            var keys = KeysHeader(text);
            foreach (Match call in LibraryCall().Matches(text))
            {
                var record = Records.SingleOrDefault(r => r.FunctionPrefix == call.Groups[1].Value + "_");
                if (record is null) continue;
                var index = int.Parse(call.Groups[3].Value);
                Assert.True(keys.GetValueOrDefault(index, "").Contains(record.Phrase, StringComparison.OrdinalIgnoreCase),
                    $"{path}: {call.Groups[1].Value}_{call.Groups[2].Value}(KEYS[{index}]) but the header does not call KEYS {index} {record.Phrase}");
            }
        }
    }

    // The C# files of src/, as paths from the repository root with '/'.
    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(RepoPaths.Src, "*.cs", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepoPaths.Root, p).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => !p.Contains("/bin/", StringComparison.Ordinal) && !p.Contains("/obj/", StringComparison.Ordinal));

    private static IEnumerable<(string Path, string Name, string Folder, string Text)> Covered()
    {
        var root = Path.Combine("src", "BatchAspire.Core", "Redis", "Lua") + Path.DirectorySeparatorChar;
        foreach (var (path, text) in LuaSources.All.Where(s => s.Path.StartsWith(root, StringComparison.Ordinal)))
        {
            var name = path[root.Length..^".lua".Length].Replace(Path.DirectorySeparatorChar, '/');
            var folder = name[..Math.Max(0, name.IndexOf('/'))];
            if (CoveredFolders.Contains(folder)) yield return (path, name, folder, text);
        }
    }

    // "-- KEYS: 1 the job hash, 2 ba:seq," and its continuation lines, up to "-- ARGV:".
    private static Dictionary<int, string> KeysHeader(string text)
    {
        var lines = text.Split('\n').TakeWhile(l => l.StartsWith("--", StringComparison.Ordinal))
            .SkipWhile(l => !l.StartsWith("-- KEYS:", StringComparison.Ordinal))
            .TakeWhile((l, i) => i == 0 || !l.StartsWith("-- ARGV:", StringComparison.Ordinal) && !l.StartsWith("-- Returns:", StringComparison.Ordinal));
        var header = string.Join(' ', lines.Select(l => l.TrimStart('-').Trim()))["KEYS:".Length..];
        return KeyEntry().Matches(header).ToDictionary(m => int.Parse(m.Groups[1].Value), m => m.Groups[2].Value.Trim());
    }

    private static int? KeyIndex(string key, Dictionary<string, int> bound)
    {
        var direct = KeysIndex().Match(key);
        if (direct.Success) return int.Parse(direct.Groups[1].Value);
        return bound.TryGetValue(key, out var n) ? n : null;
    }

    // Each top-level function of a library with its body; code before the first function has the name "".
    private static IEnumerable<(string Name, string Body)> Functions(string text)
    {
        var starts = FunctionStart().Matches(text).ToList();
        yield return ("", text[..(starts.Count > 0 ? starts[0].Index : text.Length)]);
        for (var i = 0; i < starts.Count; i++)
        {
            var end = i + 1 < starts.Count ? starts[i + 1].Index : text.Length;
            yield return (starts[i].Groups[1].Value, text[starts[i].Index..end]);
        }
    }

    // RedisScript.Load("jobs/create")
    [GeneratedRegex(@"RedisScript\.Load\(""(\w+)/")]
    private static partial Regex ScriptLoad();

    [GeneratedRegex(@"(\d+)\s+(.+?)(?=,\s*\d+\s|$)")]
    private static partial Regex KeyEntry();

    [GeneratedRegex(@"^KEYS\[(\d+)\]$")]
    private static partial Regex KeysIndex();

    // local job = KEYS[1]
    [GeneratedRegex(@"local\s+(\w+)\s*=\s*KEYS\[(\d+)\]")]
    private static partial Regex KeyLocal();

    [GeneratedRegex(@"^local function (\w+)", RegexOptions.Multiline)]
    private static partial Regex FunctionStart();

    // job_move(KEYS[1], ... or webhook_event_record(KEYS[12], ...
    [GeneratedRegex(@"\b(job|file|tenant|chunk|chunkstats|webhook_event|partial)_(\w+)\(\s*KEYS\[(\d+)\]")]
    private static partial Regex LibraryCall();
}
