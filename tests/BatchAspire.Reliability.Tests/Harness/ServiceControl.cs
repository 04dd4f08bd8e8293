using System.Diagnostics;
using BatchAspire.Contracts;
using BatchAspire.EndToEnd.Tests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>
/// Kills, stops and starts the resources of one running AppHost, and keeps every console line they print.
/// A resource's process is found through Aspire's own state (<c>executable.pid</c>) and checked against this
/// run (its environment names the run's cache or data folder) before anything is sent to it, so no other
/// process on the machine is ever touched. Project resources run as <c>dotnet run</c> with the service as its
/// child: SIGKILL goes to the service itself, and DCP sees the resource exit as a crashed service would.
/// Restarts go through Aspire's <c>resource-start</c> command. Every wait is bounded.
/// </summary>
public sealed class ServiceControl(DistributedApplication app, string dataDirectory, FaultLedger ledger) : IAsyncDisposable
{
    private ResourceWatch? _watch;

    /// <summary>The run's Redis connection string: part of every service's environment (<c>ConnectionStrings__cache</c>).</summary>
    public string CacheConnectionString { get; set; } = "";

    private ResourceWatch Watch => _watch ?? throw new InvalidOperationException("StartWatching first.");

    /// <summary>Console lines of every resource so far (resource name, instance id, line).</summary>
    public IReadOnlyCollection<(string Resource, string ResourceId, string Line)> ConsoleLogs => Watch.ConsoleLogs;

    public void StartWatching() => _watch ??= new ResourceWatch(app);

    /// <summary>The current ids of a resource's instances (several for replicas).</summary>
    public IReadOnlyList<string> InstancesOf(string name) => Watch.InstancesOf(name);

    public ResourceEvent? StateOf(string resourceId) => Watch.StateOf(resourceId);

    public async Task WaitAllHealthyAsync(IEnumerable<string> names, TimeSpan bound, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(bound);
        foreach (var name in names)
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    /// <summary>SIGKILLs the process of one instance of <paramref name="name"/> (the <paramref name="replica"/>th, in id order) and waits until Aspire sees it gone.</summary>
    public async Task<string> KillAsync(string name, int replica, CancellationToken ct)
    {
        var id = InstancesOf(name)[replica];
        var state = Watch.StateOf(id)!;
        var pid = ServiceProcessOf(state) ?? throw new InvalidOperationException($"no live process found for {id}");
        // A launcher script (rabbitmq-server) runs the real server as its child: the whole tree goes, children first.
        var descendants = state.Resource is ProjectResource ? [] : ProcessTree.DescendantsOf(pid);
        foreach (var victim in descendants.Reverse().Append(pid))
        {
            try
            {
                using var process = Process.GetProcessById(victim);
                process.Kill();   // SIGKILL: no shutdown hooks, no flushing, no goodbye to the broker
            }
            catch (ArgumentException)
            {
                // Already gone with its parent.
            }
        }
        ledger.Kill(name);
        await WaitForAsync(id, e => IsStopped(e), TimeSpan.FromSeconds(45), ct);
        return id;
    }

    /// <summary>Stops an instance gracefully through Aspire (<c>resource-stop</c>) and waits until it is down.</summary>
    public async Task StopAsync(string resourceId, CancellationToken ct)
    {
        var result = await app.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StopCommand, ct);
        Assert.True(result.Success, $"stopping {resourceId}: {result.Message}");
        await WaitForAsync(resourceId, IsStopped, TimeSpan.FromSeconds(60), ct);
        ledger.Stop(Watch.StateOf(resourceId)!.Resource.Name);
    }

    /// <summary>Starts a stopped or killed instance through Aspire (<c>resource-start</c>) and waits until it runs and is healthy again.</summary>
    public async Task StartAsync(string resourceId, CancellationToken ct)
    {
        var before = Watch.StateOf(resourceId)!.Snapshot.StartTimeStamp;
        var result = await app.ResourceCommands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, ct);
        Assert.True(result.Success, $"starting {resourceId}: {result.Message}");
        await WaitForAsync(resourceId, e =>
            e.Snapshot.State?.Text == KnownResourceStates.Running
            && e.Snapshot.StartTimeStamp != before
            && e.Snapshot.HealthStatus == HealthStatus.Healthy, TimeSpan.FromSeconds(120), ct);
        ledger.Restart(Watch.StateOf(resourceId)!.Resource.Name);
    }

    /// <summary>Starts whatever instance of <paramref name="names"/> is not running (a scenario that failed half-way), then waits for health.</summary>
    public async Task EnsureRunningAsync(IEnumerable<string> names, CancellationToken ct)
    {
        foreach (var name in names)
        {
            foreach (var id in InstancesOf(name))
            {
                if (StateOf(id) is { } e && IsStopped(e)) await StartAsync(id, ct);
            }
        }
        await WaitAllHealthyAsync(names, TimeSpan.FromMinutes(2), ct);
    }

    /// <summary>
    /// The pid of the process that IS the instance: for a project, the service under its <c>dotnet run</c>;
    /// otherwise the executable itself. Null when none is alive. Only processes of this run qualify.
    /// </summary>
    public int? ServiceProcessOf(ResourceEvent state)
    {
        if (state.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is not { } value
            || !int.TryParse(value.ToString(), out var pid))
        {
            return null;
        }
        var isProject = state.Resource is ProjectResource;
        var candidates = isProject ? ProcessTree.ChildrenOf(pid) : [pid];
        return candidates.FirstOrDefault(BelongsToThisRun) is var found && found != 0 ? found : null;
    }

    private bool BelongsToThisRun(int pid)
    {
        var environment = ProcessTree.Environment(pid);
        var workingDirectory = ProcessTree.WorkingDirectory(pid);
        return (CacheConnectionString.Length > 0 && environment.Contains($"ConnectionStrings__{ResourceNames.Cache}={CacheConnectionString}", StringComparison.Ordinal))
            || environment.Contains(dataDirectory, StringComparison.Ordinal)
            || workingDirectory.StartsWith(dataDirectory, StringComparison.Ordinal);
    }

    private async Task WaitForAsync(string resourceId, Func<ResourceEvent, bool> condition, TimeSpan bound, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + bound;
        while (!(StateOf(resourceId) is { } e && condition(e)))
        {
            if (DateTime.UtcNow > deadline)
            {
                var last = StateOf(resourceId);
                Assert.Fail($"{resourceId} did not reach the expected state within {bound}: state {last?.Snapshot.State?.Text}, health {last?.Snapshot.HealthStatus}");
            }
            await Task.Delay(100, ct);
        }
    }

    private static bool IsStopped(ResourceEvent e) =>
        e.Snapshot.State?.Text is { } s && (KnownResourceStates.TerminalStates.Contains(s) || s == KnownResourceStates.Exited || s == KnownResourceStates.Finished);

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null) await _watch.DisposeAsync();
    }
}

/// <summary>Reads /proc: children, environment and working directory of a process.</summary>
internal static class ProcessTree
{
    public static IReadOnlyList<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1]) == parent) children.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }
        return children;
    }

    /// <summary>Every process below <paramref name="root"/>, parents before their children.</summary>
    public static IReadOnlyList<int> DescendantsOf(int root)
    {
        var found = new List<int>();
        var next = new Queue<int>([root]);
        while (next.TryDequeue(out var parent))
        {
            foreach (var child in ChildrenOf(parent))
            {
                found.Add(child);
                next.Enqueue(child);
            }
        }
        return found;
    }

    public static string Environment(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/environ"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    public static string WorkingDirectory(int pid)
    {
        try { return new FileInfo($"/proc/{pid}/cwd").LinkTarget ?? ""; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
