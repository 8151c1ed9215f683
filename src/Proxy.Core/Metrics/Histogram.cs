namespace Proxy.Metrics;

/// <summary>
/// Bucket bounds shared by every latency histogram: 10 µs to 5 minutes, because one family of metrics spans the
/// gateway's own overhead (tens of µs) and a long generation (minutes). Values are kept in whole microseconds.
/// </summary>
public static class LatencyBuckets
{
    public static readonly long[] UpperBoundsUs =
    [
        10, 25, 50, 100, 250, 500,
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000, 120_000_000, 300_000_000,
    ];

    /// <summary>The bucket a value falls in: the first bound it does not exceed, or the +Inf bucket.</summary>
    public static int IndexOf(long us)
    {
        var bounds = UpperBoundsUs;
        int lo = 0, hi = bounds.Length; // answer in [lo, hi]; hi == Length is +Inf
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (us <= bounds[mid]) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }
}

/// <summary>
/// A latency histogram in microseconds, striped per core: an observation is two Interlocked adds on the core's own
/// lines (the bucket and the sum). The count is the sum of the buckets, so count and +Inf always agree.
/// </summary>
public sealed class Histogram
{
    /// <summary>Buckets (bounds plus +Inf) and the sum, rounded up to whole cache lines per stripe.</summary>
    private static readonly int Stride = (LatencyBuckets.UpperBoundsUs.Length + 2 + Stripes.LineLongs - 1) / Stripes.LineLongs * Stripes.LineLongs;
    private static readonly int SumSlot = LatencyBuckets.UpperBoundsUs.Length + 1;

    private readonly long[] _cells = new long[Stripes.Count * Stride];

    public void Observe(long us)
    {
        if (us < 0) us = 0;
        int stripe = Stripes.Current * Stride;
        Interlocked.Increment(ref _cells[stripe + LatencyBuckets.IndexOf(us)]);
        Interlocked.Add(ref _cells[stripe + SumSlot], us);
    }

    /// <summary>Per-bucket (not cumulative) counts over all stripes, plus the sum in microseconds.</summary>
    public long Snapshot(Span<long> buckets)
    {
        buckets.Clear();
        long sum = 0;
        for (int s = 0; s < _cells.Length; s += Stride)
        {
            for (int b = 0; b < buckets.Length; b++) buckets[b] += Volatile.Read(ref _cells[s + b]);
            sum += Volatile.Read(ref _cells[s + SumSlot]);
        }
        return sum;
    }

    public long Count
    {
        get
        {
            Span<long> buckets = stackalloc long[LatencyBuckets.UpperBoundsUs.Length + 1];
            Snapshot(buckets);
            long n = 0;
            foreach (var c in buckets) n += c;
            return n;
        }
    }
}
