using System.Numerics;

namespace Proxy.Routing;

/// <summary>
/// How a route picks one of its targets for an attempt. The picker has already narrowed the choice to the targets
/// that are available (breaker not open) and least tried by this request, as a bit mask; the strategy only chooses
/// among them. One stateless instance per strategy; any shared state lives on the route or target, changed lock-free.
/// </summary>
public abstract class RoutingStrategy
{
    /// <summary>The name the config selects it by (<c>strategy:</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Index of the chosen target; <paramref name="eligible"/> has at least one bit set.</summary>
    public abstract int Choose(Route route, uint eligible);

    public static IReadOnlyList<RoutingStrategy> All { get; } =
        [Strategies.SingleTarget.Instance, Strategies.OrderedFallback.Instance, Strategies.WeightedBalance.Instance, Strategies.LeastLatency.Instance];

    public static RoutingStrategy? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>The index of the <paramref name="n"/>-th set bit of <paramref name="mask"/> (0-based).</summary>
    protected static int NthSetBit(uint mask, int n)
    {
        for (int i = 0; i < n; i++) mask &= mask - 1;
        return BitOperations.TrailingZeroCount(mask);
    }
}
