using BenchmarkDotNet.Attributes;
using Proxy.Accounting;
using Proxy.Metrics;

namespace Proxy.Benchmarks;

/// <summary>
/// What metrics cost (prometheus-net underneath since issue 13): one update on the request path (issue 5: under
/// 100 ns each), all of one request's updates together, and a scrape of about 1,000 series (issue 5: under 1 ms).
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private readonly GatewayMetrics _metrics = new();
    private readonly MemoryStream _scrape = new(256 * 1024);
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
        var length = Scrape1000Series().GetAwaiter().GetResult();
        var text = System.Text.Encoding.UTF8.GetString(_scrape.GetBuffer(), 0, (int)length);
        Console.WriteLine($"// scrape: {length} bytes, {text.Split('\n').Count(l => l.Length > 0 && l[0] != '#')} series");
    }

    [Benchmark]
    public void CounterIncrement() => _series.PromptTokens.Increment();

    [Benchmark]
    public void HistogramObserve() => _series.Duration.Observe(_value++ & 0xFFFFF);

    [Benchmark]
    public void RequestCounterByStatus() => _series.CountRequest(200, null);

    /// <summary>Everything one finished request updates: its counter, four histograms, three token counters and cost.</summary>
    [Benchmark]
    public void WholeRequest() => RequestUpdates(_series, _record);

    /// <summary>The updates <c>GatewayMetrics.Observe</c> makes for a successful request with usage .</summary>
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
        s.AddCost(record.CostNanoUsd);
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
    public async Task<long> Scrape1000Series()
    {
        _scrape.SetLength(0);
        await _metrics.WriteToAsync(_scrape, openMetrics: false, CancellationToken.None);
        return _scrape.Length;
    }
}
