namespace Proxy.Limits;

/// <summary>
/// A per-minute counter over a sliding window of 60 one-second slots with a running sum: what was taken in the
/// last 60 whole seconds counts, so over any minute measured from a slot boundary at most the limit is taken. The
/// Redis store keeps the same slots in a hash (its Lua mirrors this type). Not thread-safe: callers hold <see cref="Gate"/>.
/// </summary>
internal sealed class SlidingWindow
{
    public const int Slots = 60;
    private const long SlotMs = 1000;

    private readonly long[] _slots = new long[Slots];

    /// <summary>What callers hold while they read or change the window (a Lock: far cheaper than Monitor under Native AOT).</summary>
    public Lock Gate { get; } = new();
    private long _newest = long.MinValue;
    private long _sum;

    public long Sum => _sum;

    /// <summary>Forgets the slots that have left the window at <paramref name="nowMs"/>.</summary>
    public void Advance(long nowMs)
    {
        long now = nowMs / SlotMs;
        if (_newest == long.MinValue || now - _newest >= Slots)
        {
            if (_sum != 0) Array.Clear(_slots);
            _sum = 0;
            _newest = now;
            return;
        }
        for (long s = _newest + 1; s <= now; s++)
        {
            ref long slot = ref _slots[s % Slots];
            _sum -= slot;
            slot = 0;
        }
        if (now > _newest) _newest = now;
    }

    public bool Fits(long limit, long cost) => _sum + cost <= limit;

    public void Take(long cost)
    {
        _slots[_newest % Slots] += cost;
        _sum += cost;
    }

    /// <summary>
    /// Corrects what slot <paramref name="slot"/> holds by <paramref name="delta"/> while it is in the window (never
    /// below zero); a growth after it left lands in the current slot, so usage that ran past its minute still counts.
    /// </summary>
    public void Adjust(long slot, long delta)
    {
        if (slot > _newest - Slots && slot <= _newest)
        {
            ref long s = ref _slots[slot % Slots];
            long applied = Math.Max(delta, -s);
            s += applied;
            _sum += applied;
        }
        else if (delta > 0) Take(delta);
    }

    /// <summary>How long until a take of <paramref name="cost"/> fits: when enough of the oldest slots have left.</summary>
    public TimeSpan RetryAfter(long limit, long cost, long nowMs)
    {
        long over = _sum + cost - limit;
        if (over <= 0) return TimeSpan.Zero;
        if (cost > limit) return TimeSpan.FromSeconds(Slots);
        for (long s = _newest - Slots + 1; s <= _newest; s++)
        {
            over -= _slots[s % Slots];
            if (over <= 0) return Until(s, nowMs);
        }
        return TimeSpan.FromSeconds(Slots);
    }

    /// <summary>How long until the window is empty again: when its newest non-empty slot leaves.</summary>
    public TimeSpan Reset(long nowMs)
    {
        for (long s = _newest; s > _newest - Slots; s--)
            if (_slots[s % Slots] != 0) return Until(s, nowMs);
        return TimeSpan.Zero;
    }

    /// <summary>Slot numbers are seconds since the epoch, so they are never negative and % stays in range.</summary>
    private static TimeSpan Until(long slot, long nowMs) => TimeSpan.FromMilliseconds(Math.Max(0, (slot + Slots) * SlotMs - nowMs));
}
