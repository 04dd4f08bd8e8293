namespace BatchAspire.Sandbox.Batches;

/// <summary>Prompt tokens of running batches per model, for the <c>token_limit_exceeded</c> fault.</summary>
public sealed class EnqueuedTokens
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _byModel = new(StringComparer.Ordinal);

    public bool TryReserve(string model, long tokens, long limit)
    {
        lock (_gate)
        {
            var current = _byModel.GetValueOrDefault(model);
            if (current + tokens > limit) return false;
            _byModel[model] = current + tokens;
            return true;
        }
    }

    public void Add(string model, long tokens)
    {
        lock (_gate) _byModel[model] = _byModel.GetValueOrDefault(model) + tokens;
    }

    public void Release(string model, long tokens)
    {
        lock (_gate) _byModel[model] = Math.Max(0, _byModel.GetValueOrDefault(model) - tokens);
    }
}
