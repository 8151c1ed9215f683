using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Proxy.Metrics;

/// <summary>
/// Writes the Prometheus text exposition format (0.0.4), or OpenMetrics 1.0 when the scraper asked for it. The two
/// differ in small ways handled here: OpenMetrics names a counter family without its _total suffix and ends with
/// "# EOF". Families must be written whole, one after another.
/// </summary>
public sealed class ExpositionWriter(IBufferWriter<byte> output, bool openMetrics)
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>Rendered <c>le="..."</c> labels for the latency buckets, in seconds, then +Inf.</summary>
    private static readonly byte[][] LeLabels =
    [
        .. LatencyBuckets.UpperBoundsUs.Select(us => Encoding.UTF8.GetBytes($"le=\"{Seconds(us)}\"")),
        "le=\"+Inf\""u8.ToArray(),
    ];

    public bool OpenMetrics => openMetrics;

    /// <summary>True when the Accept header prefers OpenMetrics (as Prometheus sends it when it supports it).</summary>
    public static bool WantsOpenMetrics(string? accept) =>
        accept is not null && accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);

    /// <param name="name">The counter's name without _total.</param>
    public void Counter(string name, string help) => Family(openMetrics ? name : name + "_total", help, "counter");

    public void Gauge(string name, string help) => Family(name, help, "gauge");

    public void Histogram(string name, string help) => Family(name, help, "histogram");

    public void CounterSample(string name, ReadOnlySpan<byte> labels, long value, ReadOnlySpan<byte> extra = default)
    {
        Name(name, "_total"u8, labels, extra);
        Long(value);
    }

    public void CounterSample(string name, ReadOnlySpan<byte> labels, double value, ReadOnlySpan<byte> extra = default)
    {
        Name(name, "_total"u8, labels, extra);
        Double(value);
    }

    public void GaugeSample(string name, ReadOnlySpan<byte> labels, double value, ReadOnlySpan<byte> extra = default)
    {
        Name(name, default, labels, extra);
        Double(value);
    }

    /// <summary>Cumulative buckets, count and sum (in seconds) of one histogram series.</summary>
    public void HistogramSample(string name, ReadOnlySpan<byte> labels, Histogram histogram)
    {
        Span<long> buckets = stackalloc long[LatencyBuckets.UpperBoundsUs.Length + 1];
        long sumUs = histogram.Snapshot(buckets);
        long cumulative = 0;
        for (int i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            Name(name, "_bucket"u8, labels, LeLabels[i]);
            Long(cumulative);
        }
        Name(name, "_count"u8, labels, default);
        Long(cumulative);
        Name(name, "_sum"u8, labels, default);
        Double(sumUs / 1e6);
    }

    /// <summary>Ends the exposition (OpenMetrics requires the marker).</summary>
    public void End()
    {
        if (openMetrics) Raw("# EOF\n"u8);
    }

    private void Family(string name, string help, string type)
    {
        Raw("# HELP "u8);
        Ascii(name);
        Raw(" "u8);
        Ascii(help);
        Raw("\n# TYPE "u8);
        Ascii(name);
        Raw(" "u8);
        Ascii(type);
        Raw("\n"u8);
    }

    private void Name(string name, ReadOnlySpan<byte> suffix, ReadOnlySpan<byte> labels, ReadOnlySpan<byte> extra)
    {
        Ascii(name);
        Raw(suffix);
        if (!labels.IsEmpty || !extra.IsEmpty)
        {
            Raw("{"u8);
            Raw(labels);
            if (!labels.IsEmpty && !extra.IsEmpty) Raw(","u8);
            Raw(extra);
            Raw("}"u8);
        }
        Raw(" "u8);
    }

    private void Long(long value)
    {
        var span = output.GetSpan(24);
        Utf8Formatter.TryFormat(value, span, out int n);
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    private void Double(double value)
    {
        var span = output.GetSpan(40);
        int n;
        if (double.IsPositiveInfinity(value))
        {
            "+Inf"u8.CopyTo(span);
            n = 4;
        }
        else value.TryFormat(span, out n, "R", System.Globalization.CultureInfo.InvariantCulture);
        span[n++] = (byte)'\n';
        output.Advance(n);
    }

    private void Raw(ReadOnlySpan<byte> bytes) => output.Write(bytes);

    private void Ascii(string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>A bucket bound in seconds, as a decimal both formats parse (0.00001, 2.5, 60.0).</summary>
    private static string Seconds(long us) => (us / 1e6).ToString("0.0#####", System.Globalization.CultureInfo.InvariantCulture);
}
