namespace Proxy.Routing;

/// <summary>
/// Two counts (calls and failures, or requests and retries) over a sliding time window, kept in ten buckets so
/// old events age out without a lock or a timer. Lock-free and approximate: a count that lands in a bucket in the
/// instant another thread recycles it may be lost, which a ratio over hundreds of calls does not notice.
/// </summary>
public sealed class SlidingCounts
{
    private const int Buckets = 10;

    private readonly Bucket[] _buckets = new Bucket[Buckets];
    private readonly TimeProvider _time;
    private readonly long _bucketTicks;

    public SlidingCounts(TimeSpan window, TimeProvider time)
    {
        _time = time;
        _bucketTicks = Math.Max(1, (long)(window.TotalSeconds / Buckets * time.TimestampFrequency));
        // Epoch 0 would read as current at start; -1 marks a bucket as never used.
        for (int i = 0; i < Buckets; i++) _buckets[i].Epoch = -1;
    }

    /// <summary>The window's length in seconds, as the buckets cover it.</summary>
    public double WindowSeconds => (double)_bucketTicks * Buckets / _time.TimestampFrequency;

    public void Add(long first, long second)
    {
        long epoch = _time.GetTimestamp() / _bucketTicks;
        ref var bucket = ref _buckets[(int)(epoch % Buckets)];
        long seen = Volatile.Read(ref bucket.Epoch);
        if (seen != epoch && seen < epoch && Interlocked.CompareExchange(ref bucket.Epoch, epoch, seen) == seen)
        {
            // This thread moved the bucket to the new epoch: what it held is older than the window.
            Interlocked.Exchange(ref bucket.First, 0);
            Interlocked.Exchange(ref bucket.Second, 0);
        }
        if (first != 0) Interlocked.Add(ref bucket.First, first);
        if (second != 0) Interlocked.Add(ref bucket.Second, second);
    }

    /// <summary>Both sums over the buckets of the current window.</summary>
    public (long First, long Second) Sum()
    {
        long epoch = _time.GetTimestamp() / _bucketTicks;
        long first = 0, second = 0;
        for (int i = 0; i < Buckets; i++)
        {
            long e = Volatile.Read(ref _buckets[i].Epoch);
            if (e > epoch - Buckets && e <= epoch)
            {
                first += Volatile.Read(ref _buckets[i].First);
                second += Volatile.Read(ref _buckets[i].Second);
            }
        }
        return (first, second);
    }

    /// <summary>Forgets everything (a breaker that closes starts a fresh window).</summary>
    public void Reset()
    {
        for (int i = 0; i < Buckets; i++) Volatile.Write(ref _buckets[i].Epoch, -1);
    }

    private struct Bucket
    {
        public long Epoch;
        public long First;
        public long Second;
    }
}
