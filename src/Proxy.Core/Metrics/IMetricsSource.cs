namespace Proxy.Metrics;

/// <summary>A part of the gateway that writes its own families at scrape time (the log pipeline, the process).</summary>
public interface IMetricsSource
{
    void Write(ExpositionWriter writer);
}
