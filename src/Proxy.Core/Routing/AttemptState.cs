namespace Proxy.Routing;

/// <summary>
/// One request's progress through its route: how often it tried each target (4 bits per target), the attempt count,
/// the target of the attempt under way and the breaker lease it holds. A struct on the request's own frame: nothing
/// is allocated for it.
/// </summary>
public struct AttemptState
{
    private ulong _tries;

    /// <summary>Attempts started so far.</summary>
    public int Attempts { get; private set; }

    /// <summary>Target of the current (or last) attempt; -1 before the first.</summary>
    public int Current { get; private set; }

    public BreakerLease Lease { get; private set; }

    /// <summary>The target <see cref="Lease"/> is for: the next attempt's, from when it is picked until it starts.</summary>
    public int LeaseTarget { get; private set; }

    /// <summary>True while <see cref="Lease"/> is held and must be recorded or released.</summary>
    public bool HoldsLease { get; private set; }

    public static AttemptState Start() => new() { Current = -1 };

    public readonly int TriesOf(int target) => (int)((_tries >> (target * 4)) & 0xF);

    /// <summary>The targets among <paramref name="mask"/> this request tried least often.</summary>
    public readonly uint LeastTried(uint mask)
    {
        int fewest = int.MaxValue;
        for (uint m = mask; m != 0; m &= m - 1) fewest = Math.Min(fewest, TriesOf(System.Numerics.BitOperations.TrailingZeroCount(m)));
        uint result = 0;
        for (uint m = mask; m != 0; m &= m - 1)
        {
            int i = System.Numerics.BitOperations.TrailingZeroCount(m);
            if (TriesOf(i) == fewest) result |= 1u << i;
        }
        return result;
    }

    internal void Hold(int target, in BreakerLease lease)
    {
        Lease = lease;
        LeaseTarget = target;
        HoldsLease = true;
    }

    internal void DropLease() => HoldsLease = false;

    /// <summary>Starts an attempt on <paramref name="target"/>.</summary>
    public void Begin(int target)
    {
        Attempts++;
        Current = target;
        if (TriesOf(target) < 15) _tries += 1UL << (target * 4);
    }
}
