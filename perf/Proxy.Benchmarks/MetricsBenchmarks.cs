using System.Buffers;
using BenchmarkDotNet.Attributes;
using Proxy.Accounting;
using Proxy.Metrics;

namespace Proxy.Benchmarks;

/// <summary>
/// What metrics cost: one update on the request path (issue 5: under 100 ns each), all of one request's updates
/// together, and a scrape of about 1,000 series (issue 5: under 1 ms).
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private readonly Counter _counter = new();
    private readonly Histogram _histogram = new();
    private readonly GatewayMetrics _metrics = new();
    private readonly ArrayBufferWriter<byte> _scrape = new(256 * 1024);
    private TargetSeries _series = null!;
    private RequestRecord _record = null!;
    private long _value;

    [GlobalSetup]
    public void Setup()
    {
        // 7 targets x 138 series (requests, 5 histograms of 26, 3 token types, cost) plus the fixed families: ~1,000.
        for (int t = 0; t < 7; t++)
        {
            var s = _metrics.TargetFor("route-" + t, "provider-" + (t % 3), "model-" + t);
            s.CountRequest(200, null);
            s.Duration.Observe(1234);
        }
        _metrics.ProviderFor("provider-0");
        _series = _metrics.TargetFor("route-0", "provider-0", "model-0");
        _record = SampleRecord();
        _scrape.ResetWrittenCount();
        _metrics.WriteTo(new ExpositionWriter(_scrape, openMetrics: false));
        Console.WriteLine($"// scrape: {_scrape.WrittenCount} bytes, {System.Text.Encoding.UTF8.GetString(_scrape.WrittenSpan).Split('\n').Count(l => l.Length > 0 && l[0] != '#')} series");
    }

    [Benchmark]
    public void CounterIncrement() => _counter.Increment();

    [Benchmark]
    public void HistogramObserve() => _histogram.Observe(_value++ & 0xFFFFF);

    [Benchmark]
    public void RequestCounterByStatus() => _series.CountRequest(200, null);

    /// <summary>Everything one finished request updates: its counter, four histograms, three token counters and cost.</summary>
    [Benchmark]
    public void WholeRequest() => RequestUpdates(_series, _record);

    /// <summary>The updates <c>GatewayMetrics.Observe</c> makes for a successful request with usage (PrometheusNetBenchmarks too).</summary>
    internal static void RequestUpdates(TargetSeries s, RequestRecord record)
    {
        s.CountRequest(record.Status, record.ErrorClass);
        s.Duration.Observe(record.TotalUs);
        s.Overhead.Observe(record.GatewayOverheadUs);
        s.UpstreamTtfb.Observe(record.UpstreamTtfbUs);
        s.TimeToFirstToken.Observe(record.TtftUs);
        s.PromptTokens.Add(record.PromptTokens);
        s.CompletionTokens.Add(record.CompletionTokens);
        s.CachedTokens.Add(record.CachedTokens);
        s.CostNanoUsd.Add(record.CostNanoUsd);
    }

    /// <summary>A finished streamed request with usage and cost: the numbers every request-update benchmark reports.</summary>
    internal static RequestRecord SampleRecord() => new()
    {
        RequestId = "req_0",
        StartedAt = DateTimeOffset.UnixEpoch,
        Operation = "chat.completions",
        Status = 200,
        TotalUs = 250_000,
        UpstreamTtfbUs = 200_000,
        TtftUs = 210_000,
        GatewayOverheadUs = 45,
        PromptTokens = 120,
        CompletionTokens = 40,
        UsageReported = true,
        CostNanoUsd = 42_000,
    };

    [Benchmark]
    public int Scrape1000Series()
    {
        _scrape.ResetWrittenCount();
        _metrics.WriteTo(new ExpositionWriter(_scrape, openMetrics: false));
        return _scrape.WrittenCount;
    }
}
