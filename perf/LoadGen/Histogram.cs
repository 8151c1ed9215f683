using System.Diagnostics;
using System.Numerics;

namespace LoadGen;

/// <summary>
/// Log-linear latency histogram in microseconds (the HdrHistogram layout): values below 128 µs are exact,
/// above that each power of two is split into 64 linear buckets, so a reported percentile is at most 1.6% high.
/// 2240 counters cover 1 µs to 12 days. One instance per worker, written without locks, merged at the end.
/// </summary>
internal sealed class Histogram
{
    private const int SubBits = 7;
    private const int Linear = 1 << SubBits;  // 128 exact buckets for 0..127 µs
    private const int PerOctave = Linear / 2; // 64 buckets per power of two above that
    private const int MaxBits = 40;           // 2^40 µs ≈ 12.7 days; anything longer lands in the last bucket
    private const int BucketCount = Linear + (MaxBits - SubBits) * PerOctave;

    private readonly long[] _counts = new long[BucketCount];

    public long Count { get; private set; }
    public long SumUs { get; private set; }
    public long MinUs { get; private set; } = long.MaxValue;
    public long MaxUs { get; private set; }

    public static long TicksToUs(long ticks) => ticks <= 0 ? 0 : (long)(ticks * (1_000_000.0 / Stopwatch.Frequency));

    public void RecordTicks(long ticks) => Record(TicksToUs(ticks));

    public void Record(long us)
    {
        if (us < 0) us = 0;
        _counts[Index(us)]++;
        Count++;
        SumUs += us;
        if (us < MinUs) MinUs = us;
        if (us > MaxUs) MaxUs = us;
    }

    public void Merge(Histogram other)
    {
        for (int i = 0; i < BucketCount; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        SumUs += other.SumUs;
        MinUs = Math.Min(MinUs, other.MinUs);
        MaxUs = Math.Max(MaxUs, other.MaxUs);
    }

    /// <summary>The smallest bucket bound below which a fraction q of the values lie (never above the exact max).</summary>
    public long PercentileUs(double q)
    {
        if (Count == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(UpperBound(i), MaxUs);
        }
        return MaxUs;
    }

    public double MeanUs => Count == 0 ? 0 : (double)SumUs / Count;

    /// <summary>Non-empty buckets as (upper bound µs, count), for plots and offline merging.</summary>
    public IEnumerable<long[]> Buckets()
    {
        for (int i = 0; i < BucketCount; i++)
            if (_counts[i] != 0) yield return [UpperBound(i), _counts[i]];
    }

    private static int Index(long us)
    {
        if (us < Linear) return (int)us;
        int msb = 63 - BitOperations.LeadingZeroCount((ulong)us);
        if (msb >= MaxBits) return BucketCount - 1;
        int shift = msb - SubBits + 1;                   // us >> shift lands in [64, 128)
        return Linear + (shift - 1) * PerOctave + (int)(us >> shift) - PerOctave;
    }

    private static long UpperBound(int index)
    {
        if (index < Linear) return index;
        int shift = (index - Linear) / PerOctave + 1;
        long mantissa = (index - Linear) % PerOctave + PerOctave;
        return ((mantissa + 1) << shift) - 1;
    }
}
