using System.Text.Json;

namespace BatchAspire.Reliability.Tests.Harness;

/// <summary>
/// What the scenarios did to the system and what came out: runs (jobs checked), kills, graceful stops, restarts,
/// requests, and the two numbers the promise is about, lost and doubled. Written as JSON when the collection ends
/// (<c>BATCHASPIRE_RELIABILITY_REPORT</c>, else <c>reliability-figures.json</c> beside the test assembly); the
/// figures in docs/reliability.md come from that file.
/// </summary>
public sealed class FaultLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ScenarioFigures> _scenarios = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _kills = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _stops = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _restarts = new(StringComparer.Ordinal);
    private readonly DateTime _started = DateTime.UtcNow;

    public void Kill(string resource) { lock (_gate) _kills[resource] = _kills.GetValueOrDefault(resource) + 1; }

    public void Stop(string resource) { lock (_gate) _stops[resource] = _stops.GetValueOrDefault(resource) + 1; }

    public void Restart(string resource) { lock (_gate) _restarts[resource] = _restarts.GetValueOrDefault(resource) + 1; }

    /// <summary>Adds one checked job to <paramref name="scenario"/>'s figures.</summary>
    public void Run(string scenario, InvariantReport report)
    {
        lock (_gate)
        {
            var figures = _scenarios.TryGetValue(scenario, out var f) ? f : _scenarios[scenario] = new ScenarioFigures();
            figures.Runs++;
            figures.Requests += report.Requests;
            figures.Answered += report.Output + report.Errors;
            figures.Lost += report.Lost;
            figures.Doubled += report.Doubled;
            figures.ProviderBatches += report.ProviderBatches;
            figures.DuplicateCreates += report.DuplicateCreates;
        }
    }

    /// <summary>Counts a kill or restart against a scenario as well as a resource (a scenario's own figures).</summary>
    public void Note(string scenario, int kills = 0, int restarts = 0)
    {
        lock (_gate)
        {
            var figures = _scenarios.TryGetValue(scenario, out var f) ? f : _scenarios[scenario] = new ScenarioFigures();
            figures.Kills += kills;
            figures.Restarts += restarts;
        }
    }

    /// <param name="variant">Added to the file's name (e.g. "azure"), so two fixtures of one run do not overwrite each other.</param>
    public void WriteReport(string? variant = null)
    {
        object report;
        lock (_gate)
        {
            report = new
            {
                started_utc = _started.ToString("O"),
                minutes = Math.Round((DateTime.UtcNow - _started).TotalMinutes, 1),
                runs = _scenarios.Values.Sum(s => s.Runs),
                requests = _scenarios.Values.Sum(s => s.Requests),
                kills = _kills.Values.Sum(),
                graceful_stops = _stops.Values.Sum(),
                restarts = _restarts.Values.Sum(),
                lost = _scenarios.Values.Sum(s => s.Lost),
                doubled = _scenarios.Values.Sum(s => s.Doubled),
                duplicate_provider_batches = _scenarios.Values.Sum(s => s.DuplicateCreates),
                kills_by_resource = new SortedDictionary<string, int>(_kills),
                stops_by_resource = new SortedDictionary<string, int>(_stops),
                restarts_by_resource = new SortedDictionary<string, int>(_restarts),
                scenarios = new SortedDictionary<string, ScenarioFigures>(_scenarios),
            };
        }
        var path = Environment.GetEnvironmentVariable("BATCHASPIRE_RELIABILITY_REPORT") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "reliability-figures.json");
        if (variant is not null) path = Path.ChangeExtension(path, null) + "-" + variant + Path.GetExtension(path);
        File.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
    }

    public sealed class ScenarioFigures
    {
        public int Runs { get; set; }
        public long Requests { get; set; }
        public long Answered { get; set; }
        public long Lost { get; set; }
        public long Doubled { get; set; }
        public int ProviderBatches { get; set; }
        public int DuplicateCreates { get; set; }
        public int Kills { get; set; }
        public int Restarts { get; set; }
    }
}
