using System.Numerics;

namespace Proxy.Routing.Strategies;

/// <summary>
/// <c>latency</c>: power of two choices (as YARP's PowerOfTwoChoices and Linkerd do): two distinct eligible targets at
/// random, and the one with the lower <see cref="LatencyScore"/> (moving average of time to first byte × calls in
/// flight + 1) wins. Traffic drifts to the faster target without all of it piling onto one, and a slow target still
/// gets the occasional call that tells when it is fast again.
/// </summary>
public sealed class LeastLatency : RoutingStrategy
{
    public static LeastLatency Instance { get; } = new();

    public override string Name => "latency";

    public override int Choose(Route route, uint eligible)
    {
        int count = BitOperations.PopCount(eligible);
        if (count == 1) return BitOperations.TrailingZeroCount(eligible);
        int first = Random.Shared.Next(count);
        int second = Random.Shared.Next(count - 1);
        if (second >= first) second++;
        int a = NthSetBit(eligible, first), b = NthSetBit(eligible, second);
        double scoreA = route.Targets[a].Latency?.Score ?? 0, scoreB = route.Targets[b].Latency?.Score ?? 0;
        return scoreB < scoreA ? b : a;
    }
}
