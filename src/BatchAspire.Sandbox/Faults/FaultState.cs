using Microsoft.Extensions.Options;

namespace BatchAspire.Sandbox.Faults;

/// <summary>The fault knobs in force, changeable at run time; counters ("next N") are consumed here.</summary>
public sealed class FaultState
{
    private readonly FaultSettings _configured;
    private readonly Lock _gate = new();
    private FaultSettings _current;

    public FaultState(IOptions<FaultSettings> configured)
    {
        _configured = configured.Value.Clone();
        _current = _configured.Clone();
    }

    public FaultSettings Snapshot()
    {
        lock (_gate) return _current.Clone();
    }

    public void Replace(FaultSettings settings)
    {
        lock (_gate) _current = settings.Clone();
    }

    public void Reset() => Replace(_configured);

    /// <summary>Decides whether this API call gets an injected error (429 or 500), or none (0).</summary>
    public (int Status, int RetryAfterSeconds) TakeApiFault(string method, string path)
    {
        lock (_gate)
        {
            var f = _current;
            if (f.ApiFailNext429 == 0 && f.ApiFailNext500 == 0 && f.ApiFail429Rate <= 0 && f.ApiFail500Rate <= 0) return (0, 0);
            if (f.ApiFailMethod is { } m && !string.Equals(m, method, StringComparison.OrdinalIgnoreCase)) return (0, 0);
            if (f.ApiFailPathPrefix is { } prefix && !path.StartsWith(prefix, StringComparison.Ordinal)) return (0, 0);
            if (f.ApiFailNext429 > 0)
            {
                f.ApiFailNext429--;
                return (429, f.RetryAfterSeconds);
            }
            if (f.ApiFailNext500 > 0)
            {
                f.ApiFailNext500--;
                return (500, 0);
            }
            var roll = Random.Shared.NextDouble();
            if (roll < f.ApiFail429Rate) return (429, f.RetryAfterSeconds);
            if (roll < f.ApiFail429Rate + f.ApiFail500Rate) return (500, 0);
            return (0, 0);
        }
    }

    /// <summary>How long to hold back the response of this API call (0: not at all); consumes "delay next N".</summary>
    public int TakeResponseDelay(string method, string path)
    {
        lock (_gate)
        {
            var f = _current;
            if (f.ResponseDelayMs <= 0 || f.ResponseDelayNext is <= 0) return 0;
            if (f.ResponseDelayMethod is { } m && !string.Equals(m, method, StringComparison.OrdinalIgnoreCase)) return 0;
            if (f.ResponseDelayPathPrefix is { } prefix && !path.StartsWith(prefix, StringComparison.Ordinal)) return 0;
            if (f.ResponseDelayNext is not null) f.ResponseDelayNext--;
            return f.ResponseDelayMs;
        }
    }

    /// <summary>The shortened completion window for a batch being created now, if any (consumes "expire next K").</summary>
    public double? TakeExpiry()
    {
        lock (_gate)
        {
            var f = _current;
            if (f.ExpireAfterSeconds is not { } seconds) return null;
            if (f.ExpireNextBatches is null) return seconds;
            if (f.ExpireNextBatches <= 0) return null;
            f.ExpireNextBatches--;
            return seconds;
        }
    }
}
