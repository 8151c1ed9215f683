using System.Numerics;

namespace Proxy.Routing;

/// <summary>
/// Chooses the target of a request's next attempt, the same way for every strategy: targets whose breaker is open are
/// out; of the rest, those this request has tried least; of those, the preferred tier (this region's, for
/// prefer_local) when it has any; then the route's strategy picks one, and its breaker is asked for a lease. No lock,
/// no allocation.
/// </summary>
public static class TargetPicker
{
    /// <summary>Index of the chosen target, its lease held in <paramref name="state"/>; -1 when none is available.</summary>
    /// <param name="exclude">Targets not to consider (one whose Retry-After is longer than the route waits).</param>
    /// <param name="transition">A breaker that went half-open to give this request its probe.</param>
    public static int Pick(Route route, ref AttemptState state, uint exclude, out BreakerTransition transition)
    {
        transition = BreakerTransition.None;
        var targets = route.Targets;
        uint available = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            if (targets[i].Breaker is not { } b || b.IsAvailable()) available |= 1u << i;
        }
        available &= ~exclude;
        while (available != 0)
        {
            uint eligible = state.LeastTried(available);
            if ((eligible & route.PreferredMask) != 0) eligible &= route.PreferredMask;
            int chosen = BitOperations.PopCount(eligible) == 1 ? BitOperations.TrailingZeroCount(eligible) : route.Strategy.Choose(route, eligible);
            if (targets[chosen].Breaker is not { } breaker)
            {
                state.DropLease();
                return chosen;
            }
            if (breaker.TryAcquire(out var lease, out transition))
            {
                state.Hold(chosen, lease);
                return chosen;
            }
            available &= ~(1u << chosen);
        }
        return -1;
    }

    /// <summary>When the first open breaker of the route lets a probe through (for Retry-After); at least one second.</summary>
    public static TimeSpan SoonestRecovery(Route route)
    {
        var soonest = TimeSpan.MaxValue;
        foreach (var t in route.Targets)
        {
            if (t.Breaker is { } b) soonest = TimeSpan.FromTicks(Math.Min(soonest.Ticks, b.OpenRemaining().Ticks));
        }
        return soonest == TimeSpan.MaxValue || soonest < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : soonest;
    }
}
