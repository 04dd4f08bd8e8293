using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace BatchAspire.EndToEnd.Tests;

/// <summary>
/// Follows one running AppHost's resources: the latest state of every instance (replicas apart) and every console line
/// they print, kept per instance. Aspire's rebuilder companions of project resources are left out: they are not services.
/// </summary>
public sealed class ResourceWatch : IAsyncDisposable
{
    private readonly DistributedApplication _app;
    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new();
    private readonly ConcurrentDictionary<string, Task> _logWatchers = new();
    private readonly ConcurrentQueue<(string Resource, string ResourceId, string Line)> _logs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    /// <summary>Starts following <paramref name="app"/> (before it starts, so no early line is missed).</summary>
    public ResourceWatch(DistributedApplication app)
    {
        _app = app;
        _watching = Task.Run(WatchAsync);
    }

    /// <summary>Console lines so far: the resource's name, the instance's id, the line.</summary>
    public IReadOnlyCollection<(string Resource, string ResourceId, string Line)> ConsoleLogs => _logs;

    /// <summary>The ids of the instances of <paramref name="name"/> (several for replicas), in id order.</summary>
    public IReadOnlyList<string> InstancesOf(string name) =>
        [.. _latest.Values.Where(e => e.Resource.Name == name && !IsHelper(e)).Select(e => e.ResourceId).Order(StringComparer.Ordinal)];

    public ResourceEvent? StateOf(string resourceId) => _latest.GetValueOrDefault(resourceId);

    private static bool IsHelper(ResourceEvent e) => e.Resource.Name.EndsWith("-rebuilder", StringComparison.Ordinal);

    private async Task WatchAsync()
    {
        try
        {
            await foreach (var e in _app.ResourceNotifications.WatchAsync(_stop.Token))
            {
                _latest[e.ResourceId] = e;
                if (!IsHelper(e)) _ = _logWatchers.GetOrAdd(e.ResourceId, id => Task.Run(() => CaptureLogsAsync(e.Resource.Name, id)));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CaptureLogsAsync(string resource, string resourceId)
    {
        var logs = _app.Services.GetRequiredService<ResourceLoggerService>();
        try
        {
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
            {
                foreach (var line in batch) _logs.Enqueue((resource, resourceId, line.Content));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Task.WhenAll([_watching, .. _logWatchers.Values]).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _stop.Dispose();
    }
}
