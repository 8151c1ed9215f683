using System.Numerics;

namespace Proxy.Routing.Strategies;

/// <summary><c>single</c>: the route's one target (retries, if configured, go to it again).</summary>
public sealed class SingleTarget : RoutingStrategy
{
    public static SingleTarget Instance { get; } = new();

    public override string Name => "single";

    public override int Choose(Route route, uint eligible) => BitOperations.TrailingZeroCount(eligible);
}
