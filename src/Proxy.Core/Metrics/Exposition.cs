using Prometheus;

namespace Proxy.Metrics;

/// <summary>
/// The two formats /metrics serves: the Prometheus text format (0.0.4), or OpenMetrics 1.0 when the scraper asks for
/// it (OpenMetrics names a counter family without its _total suffix and ends with "# EOF"; prometheus-net writes both).
/// </summary>
public static class Exposition
{
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>True when the Accept header prefers OpenMetrics (as Prometheus sends it when it supports it).</summary>
    public static bool WantsOpenMetrics(string? accept) =>
        accept is not null && accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);

    public static ExpositionFormat Format(bool openMetrics) => openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText;
}
