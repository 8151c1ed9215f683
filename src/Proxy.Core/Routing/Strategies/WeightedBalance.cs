using System.Numerics;

namespace Proxy.Routing.Strategies;

/// <summary>
/// <c>weighted</c>: targets share requests by weight, in the smooth weighted round-robin order worked out at load
/// (weights 3 and 1 give A A B A, not A A A B), one Interlocked step per request. When the scheduled target is not
/// eligible (breaker open, already tried), a weighted random pick among the eligible ones replaces it.
/// </summary>
public sealed class WeightedBalance : RoutingStrategy
{
    public static WeightedBalance Instance { get; } = new();

    public override string Name => "weighted";

    public override int Choose(Route route, uint eligible)
    {
        if (BitOperations.PopCount(eligible) == 1) return BitOperations.TrailingZeroCount(eligible);
        int scheduled = route.NextScheduled();
        if ((eligible & (1u << scheduled)) != 0) return scheduled;

        var targets = route.Targets;
        int total = 0;
        for (uint m = eligible; m != 0; m &= m - 1) total += targets[BitOperations.TrailingZeroCount(m)].Weight;
        int r = Random.Shared.Next(total);
        for (uint m = eligible; ; m &= m - 1)
        {
            int i = BitOperations.TrailingZeroCount(m);
            r -= targets[i].Weight;
            if (r < 0 || (m & (m - 1)) == 0) return i;
        }
    }

    /// <summary>
    /// nginx's smooth weighted round robin, run once over one cycle (weights divided by their common divisor): each step
    /// adds every weight to its target's running total, picks the largest, and takes the sum of weights from it.
    /// </summary>
    public static int[] BuildSchedule(IReadOnlyList<int> weights)
    {
        int divisor = 0;
        foreach (var w in weights) divisor = Gcd(divisor, w);
        var reduced = weights.Select(w => w / divisor).ToArray();
        int sum = reduced.Sum();
        var current = new int[reduced.Length];
        var schedule = new int[sum];
        for (int step = 0; step < sum; step++)
        {
            int best = 0;
            for (int i = 0; i < reduced.Length; i++)
            {
                current[i] += reduced[i];
                if (current[i] > current[best]) best = i;
            }
            current[best] -= sum;
            schedule[step] = best;
        }
        return schedule;
    }

    private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
}
