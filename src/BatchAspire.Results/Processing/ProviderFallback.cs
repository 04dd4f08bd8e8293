using BatchAspire.Core.Chunks;
using BatchAspire.Core.Results;
using BatchAspire.Core.Routing;

namespace BatchAspire.Results.Processing;

/// <summary>
/// Per-line fallback (docs/pipeline.md, "Per-line fallback"): where the requests a chunk hands on go next. A routed model's
/// requests get <c>Results:MaxAttempts</c> tries at each provider of its route in turn: a retry chunk stays with the
/// provider its parent ran at until that provider has had its tries (every chunk counts as one, an expired or failed
/// batch too), then goes to the route's next provider with its tries counted afresh; after the last provider's tries a
/// transient failure is final. Without a route (or for a chunk that never reached a provider of it) the attempt alone
/// counts, as before routing.
/// </summary>
public static class ProviderFallback
{
    /// <summary>What results does with the transient failures of <paramref name="chunk"/>.</summary>
    /// <param name="LastTry">a transient failure is final now</param>
    /// <param name="Retry">where a retry chunk goes (null: placed by the submitter, as for an unrouted model)</param>
    /// <param name="Capacity">where a capacity re-send goes: the same provider, the same try (it ran nothing)</param>
    public sealed record Decision(bool LastTry, SuccessorPlacement? Retry, SuccessorPlacement? Capacity);

    public static Decision Decide(IReadOnlyList<RouteTarget>? route, ChunkRecord chunk, int maxAttempts)
    {
        var at = route is null || chunk.Provider is not { } provider ? -1 : IndexOf(route, provider);
        if (at < 0) return new Decision(chunk.Attempt >= maxAttempts, null, null);
        var here = route![at].Provider;
        var tries = chunk.ProviderTry;
        var capacity = new SuccessorPlacement(here, tries);
        if (tries < maxAttempts) return new Decision(false, new SuccessorPlacement(here, tries + 1), capacity);
        if (at + 1 < route.Count) return new Decision(false, new SuccessorPlacement(route[at + 1].Provider, 1), capacity);
        // The route is spent: only lines the provider refused by number go out again (they were never tried), still here.
        return new Decision(true, new SuccessorPlacement(here, tries + 1), capacity);
    }

    private static int IndexOf(IReadOnlyList<RouteTarget> route, string provider)
    {
        for (var i = 0; i < route.Count; i++) if (route[i].Provider == provider) return i;
        return -1;
    }
}
