namespace Proxy.Metrics;

/// <summary>A monotonic counter, striped per core; lock-free and allocation-free to update.</summary>
public sealed class Counter
{
    private readonly long[] _cells = new long[Stripes.Count * Stripes.LineLongs];

    public void Increment() => Interlocked.Increment(ref _cells[Stripes.Current * Stripes.LineLongs]);

    public void Add(long value) => Interlocked.Add(ref _cells[Stripes.Current * Stripes.LineLongs], value);

    /// <summary>The sum over stripes; each stripe only grows, so successive reads never go backwards.</summary>
    public long Value
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _cells.Length; i += Stripes.LineLongs) sum += Volatile.Read(ref _cells[i]);
            return sum;
        }
    }
}

/// <summary>A value that goes up and down (in-flight requests): one Interlocked cell, read as is.</summary>
public sealed class Gauge
{
    private long _value;

    public void Increment() => Interlocked.Increment(ref _value);

    public void Decrement() => Interlocked.Decrement(ref _value);

    public void Set(long value) => Volatile.Write(ref _value, value);

    public long Value => Volatile.Read(ref _value);
}
