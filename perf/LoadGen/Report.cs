using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace LoadGen;

internal sealed record HistogramReport(
    long Count, double MeanUs, long MinUs, long P50Us, long P90Us, long P99Us, long P999Us, long MaxUs, List<long[]> Buckets)
{
    public static HistogramReport? From(Histogram? h) => h is null ? null : new(
        h.Count, Math.Round(h.MeanUs, 1), h.Count == 0 ? 0 : h.MinUs, h.PercentileUs(0.50), h.PercentileUs(0.90),
        h.PercentileUs(0.99), h.PercentileUs(0.999), h.MaxUs, [.. h.Buckets()]);
}

/// <summary>The JSON report (--json). Times are microseconds; buckets are [upper bound µs, count] pairs.</summary>
internal sealed record Report(
    string Label, string Mode, string Method, string Url, int Connections, double? TargetRate, bool Stream,
    DateTimeOffset StartedAt, double WarmupS, double DurationS, double ElapsedS,
    long Requests, long Ok, long ErrorCount, Dictionary<string, long> Errors, double Rps, double BodyMbPerS,
    double ClientCpuS, int ClientGen0Gcs,
    HistogramReport Latency, HistogramReport Ttfb, HistogramReport? Service, HistogramReport? Ttft, HistogramReport? Gap);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Report))]
internal sealed partial class ReportJson : JsonSerializerContext;

internal static class Reports
{
    public static Report Build(Options o, RequestTemplate request, RunResult r)
    {
        Stats s = r.Stats;
        var errors = new Dictionary<string, long>();
        for (int i = 0; i < s.Errors.Length; i++)
            if (s.Errors[i] != 0) errors[Stats.ErrorNames[i]] = s.Errors[i];
        long errorCount = s.Errors.Sum();
        return new Report(
            o.Label, o.OpenLoop ? "open" : "closed", request.Method, o.Url.ToString(), o.Connections, o.OpenLoop ? o.Rate : null, o.Stream,
            r.StartedAt, o.Warmup.TotalSeconds, o.Duration.TotalSeconds, Math.Round(r.ElapsedSeconds, 3),
            s.Ok + errorCount, s.Ok, errorCount, errors, Math.Round(s.Ok / r.ElapsedSeconds, 1),
            Math.Round(s.BodyBytes / r.ElapsedSeconds / 1e6, 3), r.ClientCpuSeconds, r.ClientGen0Gcs,
            HistogramReport.From(s.Latency)!, HistogramReport.From(s.Ttfb)!,
            HistogramReport.From(s.Service), HistogramReport.From(s.Ttft), HistogramReport.From(s.Gap));
    }

    /// <summary>The human view: a header, a throughput line, one row per histogram (milliseconds), the errors.</summary>
    public static string Table(Report r)
    {
        var sb = new StringBuilder();
        string mode = r.Mode == "open" ? $"open loop {F(r.TargetRate ?? 0, 1)} req/s, max {r.Connections} in flight" : $"closed loop, {r.Connections} connections";
        sb.AppendLine(CultureInfo.InvariantCulture, $"{(r.Label.Length > 0 ? r.Label + ": " : "")}{r.Method} {r.Url}  {mode}{(r.Stream ? ", SSE" : "")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  {F(r.ElapsedS, 2)} s measured after {F(r.WarmupS, 1)} s warmup: {r.Ok} ok, {r.ErrorCount} errors, {F(r.Rps, 1)} req/s, body {F(r.BodyMbPerS, 2)} MB/s");
        sb.AppendLine(CultureInfo.InvariantCulture, $"  loadgen itself: {F(r.ClientCpuS, 1)} s CPU over {F(r.WarmupS + r.ElapsedS, 1)} s wall, {r.ClientGen0Gcs} gen-0 GCs");
        sb.AppendLine("  ms                count      mean       p50       p90       p99     p99.9       max");
        Row(sb, "latency", r.Latency);
        if (r.Service is not null) Row(sb, "service", r.Service);
        Row(sb, "ttfb", r.Ttfb);
        if (r.Ttft is not null) Row(sb, "ttft", r.Ttft);
        if (r.Gap is not null) Row(sb, "chunk gap", r.Gap);
        if (r.Errors.Count > 0)
            sb.AppendLine("  errors: " + string.Join(", ", r.Errors.Select(e => $"{e.Key} {e.Value}")));
        return sb.ToString();
    }

    /// <summary>One key=value line for scripts (--summary): milliseconds, no spaces inside values.</summary>
    public static string SummaryLine(Report r)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"label={(r.Label.Length > 0 ? r.Label.Replace(' ', '_') : "-")} mode={r.Mode} rps={F(r.Rps, 1)} ok={r.Ok} errors={r.ErrorCount}");
        Keys(sb, "", r.Latency);
        if (r.Ttft is not null) Keys(sb, "ttft_", r.Ttft);
        if (r.Gap is not null) Keys(sb, "gap_", r.Gap);
        foreach (var e in r.Errors) sb.Append(CultureInfo.InvariantCulture, $" err_{e.Key}={e.Value}");
        return sb.ToString();
    }

    private static void Row(StringBuilder sb, string name, HistogramReport h) =>
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"  {name,-10}{h.Count,12}{Ms(h.MeanUs),10}{Ms(h.P50Us),10}{Ms(h.P90Us),10}{Ms(h.P99Us),10}{Ms(h.P999Us),10}{Ms(h.MaxUs),10}");

    private static void Keys(StringBuilder sb, string prefix, HistogramReport h) =>
        sb.Append(CultureInfo.InvariantCulture,
            $" {prefix}p50_ms={Ms(h.P50Us)} {prefix}p90_ms={Ms(h.P90Us)} {prefix}p99_ms={Ms(h.P99Us)} {prefix}p999_ms={Ms(h.P999Us)} {prefix}max_ms={Ms(h.MaxUs)}");

    private static string Ms(double us) => (us / 1000).ToString("0.000", CultureInfo.InvariantCulture);
    private static string F(double v, int decimals) => v.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
