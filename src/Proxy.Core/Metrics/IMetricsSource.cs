using Prometheus;

namespace Proxy.Metrics;

/// <summary>
/// A part of the gateway with families of its own whose values are read when scraped (the log pipeline, the process):
/// it makes its families once, then sets their values just before each scrape. Nothing runs between scrapes.
/// </summary>
public interface IMetricsSource
{
    void Register(IMetricFactory factory);

    void Update();
}
