namespace Proxy.Metrics;

/// <summary>
/// Bucket bounds shared by every latency histogram: 10 µs to 5 minutes, because one family of metrics spans the
/// gateway's own overhead (tens of µs) and a long generation (minutes).
/// </summary>
public static class LatencyBuckets
{
    public static readonly long[] UpperBoundsUs =
    [
        10, 25, 50, 100, 250, 500,
        1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000, 120_000_000, 300_000_000,
    ];

    /// <summary>The same bounds in seconds, the unit the histograms are exposed in.</summary>
    public static readonly double[] UpperBoundsSeconds = [.. UpperBoundsUs.Select(us => us / 1e6)];
}

/// <summary>One latency histogram series; the pipeline measures in whole microseconds, the exposition is in seconds.</summary>
public sealed class Histogram(Prometheus.Histogram.Child series)
{
    public void Observe(long us) => series.Observe(us <= 0 ? 0 : us / 1e6);

    public long Count => (long)series.Count;
}
