using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Prometheus;
using Proxy.Accounting;
using Proxy.Metrics;

namespace Proxy.Benchmarks;

/// <summary>
/// The gateway's own metrics against prometheus-net 8.2.1 (issue 13): one request's updates and a scrape of the same
/// ~1,000 series, both ways. The rule: prometheus-net is adopted only if it costs at most 1.5x per request and its
/// exposition stays promtool-clean with the same names (perf/README.md has the numbers and the verdict). src/ does
/// not use prometheus-net; it is referenced by this project only.
/// </summary>
/// <remarks>
/// A request's updates are those of <c>GatewayMetrics.Observe</c> plus the in-flight gauge around the request
/// (ProxyHandler): the request counter by status, four latency histograms, three token counters and cost; a stream
/// adds one chunk-gap observation per event (<c>StreamRelay</c>). Both sides reach their series the way the gateway
/// does: per target, made once, the request counter found by status in a per-target dictionary. prometheus-net is
/// also measured the way its documentation writes it, <c>WithLabels(...)</c> on every update.
/// </remarks>
[MemoryDiagnoser]
public class PrometheusNetBenchmarks
{
    /// <summary>Chunk-gap observations per streamed request: the 16-event streams compare.sh runs.</summary>
    public const int StreamEvents = 16;

    private OwnMetrics _own = null!;
    private PromMetrics _prom = null!;
    private TargetSeries _ownSeries = null!;
    private PromMetrics.Target _promSeries = null!;
    private readonly ArrayBufferWriter<byte> _ownScrape = new(256 * 1024);
    private readonly MemoryStream _promScrape = new(256 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        _own = OwnMetrics.Populated();
        _prom = PromMetrics.Populated();
        _ownSeries = _own.Metrics.TargetFor("route-0", "provider-0", "model-0");
        _promSeries = _prom.TargetFor("route-0", "provider-0", "model-0");
    }

    // ---- one request's updates ----

    [Benchmark(Baseline = true)]
    public void OwnRequest() => _own.Request(_ownSeries);

    [Benchmark]
    public void PromNetRequest() => _prom.Request(_promSeries);

    [Benchmark]
    public void PromNetRequestWithLabels() => _prom.RequestWithLabels("route-0", "provider-0", "model-0");

    [Benchmark]
    public void OwnStream() => _own.Stream(_ownSeries);

    [Benchmark]
    public void PromNetStream() => _prom.Stream(_promSeries);

    // ---- a scrape of the same series (text format 0.0.4, what Prometheus asks for by default) ----

    [Benchmark]
    public int OwnScrape()
    {
        _ownScrape.ResetWrittenCount();
        _own.Metrics.WriteTo(new ExpositionWriter(_ownScrape, openMetrics: false));
        return _ownScrape.WrittenCount;
    }

    [Benchmark]
    public async Task<long> PromNetScrape()
    {
        _promScrape.SetLength(0);
        await _prom.Registry.CollectAndExportAsTextAsync(_promScrape);
        return _promScrape.Length;
    }

    /// <summary>Both expositions of the populated series, for promtool and the series comparison (Program.cs --expositions).</summary>
    public static async Task<(byte[] Own, byte[] PromNet)> ExpositionsAsync()
    {
        var own = new ArrayBufferWriter<byte>();
        OwnMetrics.Populated().Metrics.WriteTo(new ExpositionWriter(own, openMetrics: false));
        using var prom = new MemoryStream();
        await PromMetrics.Populated().Registry.CollectAndExportAsTextAsync(prom);
        return (own.WrittenSpan.ToArray(), prom.ToArray());
    }

    /// <summary>The numbers one finished request reports (MetricsBenchmarks' record), and a stream's chunk gap.</summary>
    private static readonly RequestRecord Record = MetricsBenchmarks.SampleRecord();
    private const long ChunkGapUs = 5_000;

    /// <summary>7 targets (route, provider, model) with some traffic: with the fixed families, about 1,000 series.</summary>
    private static IEnumerable<(string Route, string Provider, string Model)> Targets() =>
        Enumerable.Range(0, 7).Select(t => ("route-" + t, "provider-" + (t % 3), "model-" + t));

    private sealed class OwnMetrics
    {
        public GatewayMetrics Metrics { get; } = new();

        public static OwnMetrics Populated()
        {
            var own = new OwnMetrics();
            foreach (var (route, provider, model) in Targets()) own.Request(own.Metrics.TargetFor(route, provider, model));
            own.Metrics.ProviderFor("provider-0");
            return own;
        }

        /// <summary>What ProxyHandler (the in-flight gauge) and GatewayMetrics.Observe do for a successful request with usage.</summary>
        public void Request(TargetSeries s)
        {
            Metrics.InFlight.Increment();
            MetricsBenchmarks.RequestUpdates(s, Record);
            Metrics.InFlight.Decrement();
        }

        public void Stream(TargetSeries s)
        {
            for (int i = 0; i < StreamEvents; i++) s.ChunkGap.Observe(ChunkGapUs);
            Request(s);
        }
    }

    /// <summary>The same families, names, help, labels and buckets, in prometheus-net.</summary>
    private sealed class PromMetrics
    {
        private static readonly string[] TargetLabels = ["route", "provider", "model"];
        private static readonly double[] Buckets = [.. LatencyBuckets.UpperBoundsUs.Select(us => us / 1e6)];
        private static readonly string[] StatusText = [.. Enumerable.Range(0, 1000).Select(s => s.ToString(CultureInfo.InvariantCulture))];

        private readonly ConcurrentDictionary<(string, string, string), Target> _targets = new();
        private readonly Prometheus.Counter _requests, _tokens, _cost;
        private readonly Prometheus.Histogram _duration, _overhead, _upstreamTtfb, _ttft, _chunkGap;
        private readonly Prometheus.Gauge _inFlight;

        public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

        private PromMetrics()
        {
            var f = Prometheus.Metrics.WithCustomRegistry(Registry);
            // Help texts are the gateway's; the names carry _total as the gateway's text exposition does.
            _requests = f.CreateCounter(MetricNames.Requests + "_total", "Requests answered, by route, provider, upstream model, HTTP status and error class.",
                [.. TargetLabels, "status", "error_class"]);
            _duration = NewHistogram(f, MetricNames.RequestDuration, "Time from the request's arrival to its last byte.");
            _overhead = NewHistogram(f, MetricNames.Overhead, "Time the gateway added: request duration minus the time spent waiting on the upstream.");
            _upstreamTtfb = NewHistogram(f, MetricNames.UpstreamTtfb, "Time from sending a request upstream to the upstream's response headers.");
            _ttft = NewHistogram(f, MetricNames.TimeToFirstToken, "Streams: time from the request's arrival to the first event sent to the client.");
            _chunkGap = NewHistogram(f, MetricNames.ChunkGap, "Streams: time between consecutive writes of events to the client.");
            _tokens = f.CreateCounter(MetricNames.Tokens + "_total", "Tokens the providers reported, by type: prompt (cached included), completion, and cached prompt tokens.",
                [.. TargetLabels, "type"]);
            _cost = f.CreateCounter(MetricNames.Cost + "_total", "Cost of the reported tokens in USD, from the price table (built in, overridable under pricing:).", TargetLabels);
            _inFlight = f.CreateGauge(MetricNames.InFlight, "Requests being handled now.");

            // The fixed families every scrape carries (GatewayMetrics.WriteTo), so the scrape covers the same series.
            var rejected = f.CreateCounter(MetricNames.Rejected + "_total", "Requests refused before reaching a provider, by reason.", ["reason"]);
            foreach (var reason in RejectReasons.All) rejected.WithLabels(reason);
            var exhausted = f.CreateCounter(MetricNames.ResourceExhaustion + "_total",
                "Operations that failed because the gateway ran out of file descriptors (EMFILE/ENFILE), by operation: upstream_connect (answered 503 gateway_resources), accept (the listener backs off).",
                ["operation"]);
            foreach (var operation in ResourceOperations.All) exhausted.WithLabels(operation);
            var upstreamErrors = f.CreateCounter(MetricNames.UpstreamErrors + "_total", "Failed calls to providers, by provider and class.", ["provider", "class"]);
            foreach (var kind in UpstreamErrors.All) upstreamErrors.WithLabels("provider-0", kind);
            // Routing families: the gateway writes their HELP and TYPE even with no samples (no retries yet), so they are
            // declared here too; a labelled family with no children is what prometheus-net has for that.
            f.CreateCounter(MetricNames.Retries + "_total", "Attempts that failed and were tried again on the same target, by the target and why it failed.", [.. TargetLabels, "reason"]);
            f.CreateCounter(MetricNames.Fallbacks + "_total", "Attempts that failed and moved the request to another target, by the target that failed and why.", [.. TargetLabels, "reason"]);
            f.CreateCounter(MetricNames.RetriesStopped + "_total",
                "Retryable failures answered to the client instead of tried again, by route and why: attempts, budget, deadline, retry_after, no_target.", ["route", "reason"]);
            f.CreateGauge(MetricNames.BreakerState, "Circuit breaker of each target in the config in force: 0 closed, 1 half-open, 2 open.", TargetLabels);
            f.CreateCounter(MetricNames.BreakerTransitions + "_total", "Circuit breaker state changes, by target and the state changed to.", [.. TargetLabels, "to"]);
            var reloads = f.CreateCounter(MetricNames.ConfigReloads + "_total", "Config reloads, by result: applied or rejected (the last good config stays).", ["result"]);
            reloads.WithLabels("applied");
            reloads.WithLabels("rejected");
            f.CreateGauge(MetricNames.ConfigLastReload, "Unix time the config in force was loaded.").Set(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        }

        private static Prometheus.Histogram NewHistogram(IMetricFactory f, string name, string help) =>
            f.CreateHistogram(name, help, TargetLabels, new HistogramConfiguration { Buckets = Buckets });

        public static PromMetrics Populated()
        {
            var prom = new PromMetrics();
            foreach (var (route, provider, model) in Targets()) prom.Request(prom.TargetFor(route, provider, model));
            return prom;
        }

        public Target TargetFor(string route, string provider, string model) =>
            _targets.GetOrAdd((route, provider, model), k => new Target(this, k.Item1, k.Item2, k.Item3));

        public void Request(Target t)
        {
            _inFlight.Inc();
            t.CountRequest(Record.Status, Record.ErrorClass);
            t.Duration.Observe(Record.TotalUs / 1e6);
            t.Overhead.Observe(Record.GatewayOverheadUs / 1e6);
            t.UpstreamTtfb.Observe(Record.UpstreamTtfbUs / 1e6);
            t.TimeToFirstToken.Observe(Record.TtftUs / 1e6);
            t.PromptTokens.Inc(Record.PromptTokens);
            t.CompletionTokens.Inc(Record.CompletionTokens);
            t.CachedTokens.Inc(Record.CachedTokens);
            t.Cost.Inc(Record.CostNanoUsd / 1e9);
            _inFlight.Dec();
        }

        public void Stream(Target t)
        {
            for (int i = 0; i < StreamEvents; i++) t.ChunkGap.Observe(ChunkGapUs / 1e6);
            Request(t);
        }

        /// <summary>As prometheus-net's documentation writes it: the labelled child looked up on every update.</summary>
        public void RequestWithLabels(string route, string provider, string model)
        {
            _inFlight.Inc();
            _requests.WithLabels(route, provider, model, StatusText[Record.Status], ErrorClasses.Name(ErrorClasses.IndexOf(Record.ErrorClass))).Inc();
            _duration.WithLabels(route, provider, model).Observe(Record.TotalUs / 1e6);
            _overhead.WithLabels(route, provider, model).Observe(Record.GatewayOverheadUs / 1e6);
            _upstreamTtfb.WithLabels(route, provider, model).Observe(Record.UpstreamTtfbUs / 1e6);
            _ttft.WithLabels(route, provider, model).Observe(Record.TtftUs / 1e6);
            _tokens.WithLabels(route, provider, model, "prompt").Inc(Record.PromptTokens);
            _tokens.WithLabels(route, provider, model, "completion").Inc(Record.CompletionTokens);
            _tokens.WithLabels(route, provider, model, "cached").Inc(Record.CachedTokens);
            _cost.WithLabels(route, provider, model).Inc(Record.CostNanoUsd / 1e9);
            _inFlight.Dec();
        }

        /// <summary>One target's children, made once (as the gateway's TargetSeries), the request counter by status.</summary>
        public sealed class Target(PromMetrics m, string route, string provider, string model)
        {
            private readonly ConcurrentDictionary<int, Prometheus.Counter.Child> _requests = new();

            public Prometheus.Histogram.Child Duration { get; } = m._duration.WithLabels(route, provider, model);
            public Prometheus.Histogram.Child Overhead { get; } = m._overhead.WithLabels(route, provider, model);
            public Prometheus.Histogram.Child UpstreamTtfb { get; } = m._upstreamTtfb.WithLabels(route, provider, model);
            public Prometheus.Histogram.Child TimeToFirstToken { get; } = m._ttft.WithLabels(route, provider, model);
            public Prometheus.Histogram.Child ChunkGap { get; } = m._chunkGap.WithLabels(route, provider, model);
            public Prometheus.Counter.Child PromptTokens { get; } = m._tokens.WithLabels(route, provider, model, "prompt");
            public Prometheus.Counter.Child CompletionTokens { get; } = m._tokens.WithLabels(route, provider, model, "completion");
            public Prometheus.Counter.Child CachedTokens { get; } = m._tokens.WithLabels(route, provider, model, "cached");
            public Prometheus.Counter.Child Cost { get; } = m._cost.WithLabels(route, provider, model);

            public void CountRequest(int status, string? errorClass)
            {
                int key = Math.Clamp(status, 0, 999) * ErrorClasses.Count + ErrorClasses.IndexOf(errorClass);
                if (!_requests.TryGetValue(key, out var child))
                {
                    child = _requests.GetOrAdd(key, k => m._requests.WithLabels(route, provider, model,
                        StatusText[k / ErrorClasses.Count], ErrorClasses.Name(k % ErrorClasses.Count)));
                }
                child.Inc();
            }
        }
    }
}
