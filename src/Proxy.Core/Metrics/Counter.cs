namespace Proxy.Metrics;

/// <summary>
/// One counter series (a label set of a prometheus-net family), counted in whole units. prometheus-net keeps the
/// value and writes the exposition; this names the gateway's operations on it.
/// </summary>
public sealed class Counter(Prometheus.Counter.Child series)
{
    public void Increment() => series.Inc();

    public void Add(long value) => series.Inc(value);

    public long Value => (long)series.Value;
}

/// <summary>A value that goes up and down (in-flight requests).</summary>
public sealed class Gauge(Prometheus.IGauge series)
{
    public void Increment() => series.Inc();

    public void Decrement() => series.Dec();

    public void Set(double value) => series.Set(value);

    public long Value => (long)series.Value;
}
