using System.Numerics;

namespace Proxy.Routing.Strategies;

/// <summary>
/// <c>fallback</c>: the first target in config order that is available and not yet tried; a failure moves the request to
/// the next one at once, and an open breaker moves every request there until it recovers.
/// </summary>
public sealed class OrderedFallback : RoutingStrategy
{
    public static OrderedFallback Instance { get; } = new();

    public override string Name => "fallback";

    public override int Choose(Route route, uint eligible) => BitOperations.TrailingZeroCount(eligible);
}
