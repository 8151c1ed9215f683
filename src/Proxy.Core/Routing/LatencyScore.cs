namespace Proxy.Routing;

/// <summary>
/// What the latency strategy compares: a moving average of the target's time to first byte, times the calls it has in
/// flight plus one (Linkerd's and Finagle's "peak EWMA" idea: a fast target that is already busy is not fast for the
/// next call). Updates are plain reads and writes; a lost update under a race only delays the average by one sample.
/// </summary>
public sealed class LatencyScore
{
    /// <summary>Weight of a new sample: about the last five calls shape the average.</summary>
    private const double Alpha = 0.3;

    /// <summary>A failed call counts as this much slower than the average (and never as fast).</summary>
    private const double FailurePenalty = 2.0;

    private long _averageUs;
    private int _inFlight;

    /// <summary>The moving average in microseconds; 0 until the first sample (an untried target looks best, so it gets tried).</summary>
    public long AverageUs => Volatile.Read(ref _averageUs);

    public int InFlight => Volatile.Read(ref _inFlight);

    public double Score => (double)Volatile.Read(ref _averageUs) * (Volatile.Read(ref _inFlight) + 1);

    public void Started() => Interlocked.Increment(ref _inFlight);

    public void Finished() => Interlocked.Decrement(ref _inFlight);

    /// <summary>A call's time to first byte.</summary>
    public void Observe(long micros)
    {
        long old = Volatile.Read(ref _averageUs);
        Volatile.Write(ref _averageUs, old == 0 ? Math.Max(micros, 1) : Math.Max(1, (long)(old + Alpha * (micros - old))));
    }

    /// <summary>A call that failed after <paramref name="micros"/>: it counts as slow, however fast it failed.</summary>
    public void ObserveFailure(long micros) => Observe(Math.Max(micros, (long)(Volatile.Read(ref _averageUs) * FailurePenalty)));
}
