using Prometheus;

namespace Proxy.Metrics;

/// <summary>
/// The request-path families of one registry, with their help and label names. Counter names carry _total, as the
/// text format writes them (prometheus-net drops it from the family name in OpenMetrics).
/// </summary>
internal sealed class MetricFamilies
{
    private static readonly string[] Target = ["route", "provider", "model"];

    public MetricFamilies(IMetricFactory f)
    {
        Requests = f.CreateCounter(MetricNames.Requests + "_total", "Requests answered, by route, provider, upstream model, HTTP status and error class.",
            [.. Target, "status", "error_class"]);
        Duration = Latency(f, MetricNames.RequestDuration, "Time from the request's arrival to its last byte.");
        Overhead = Latency(f, MetricNames.Overhead, "Time the gateway added: request duration minus the time spent waiting on the upstream.");
        UpstreamTtfb = Latency(f, MetricNames.UpstreamTtfb, "Time from sending a request upstream to the upstream's response headers.");
        TimeToFirstToken = Latency(f, MetricNames.TimeToFirstToken, "Streams: time from the request's arrival to the first event sent to the client.");
        ChunkGap = Latency(f, MetricNames.ChunkGap, "Streams: time between consecutive writes of events to the client.");
        Tokens = f.CreateCounter(MetricNames.Tokens + "_total", "Tokens the providers reported, by type: prompt (cache reads and writes included), completion, cached (prompt tokens read from the provider's cache) and cache_write (written to it).",
            [.. Target, "type"]);
        Cost = f.CreateCounter(MetricNames.Cost + "_total", "Cost of the reported tokens in USD, from the price table (built in, overridable under pricing:).", Target);
        InFlight = f.CreateGauge(MetricNames.InFlight, "Requests being handled now.");
        ClientApiRequests = f.CreateCounter(MetricNames.ClientApiRequests + "_total",
            "Requests answered, by the API the client spoke: chat_completions, embeddings, messages (Anthropic), responses (OpenAI).", ["api"]);
        Rejected = f.CreateCounter(MetricNames.Rejected + "_total", "Requests refused before reaching a provider, by reason.", ["reason"]);
        Exhausted = f.CreateCounter(MetricNames.ResourceExhaustion + "_total",
            "Operations that failed because the gateway ran out of file descriptors (EMFILE/ENFILE), by operation: upstream_connect (answered 503 gateway_resources), accept (the listener backs off).",
            ["operation"]);
        UpstreamErrors = f.CreateCounter(MetricNames.UpstreamErrors + "_total", "Failed calls to providers, by provider and class.", ["provider", "class"]);
        Retries = f.CreateCounter(MetricNames.Retries + "_total", "Attempts that failed and were tried again on the same target, by the target and why it failed.", [.. Target, "reason"]);
        Fallbacks = f.CreateCounter(MetricNames.Fallbacks + "_total", "Attempts that failed and moved the request to another target, by the target that failed and why.", [.. Target, "reason"]);
        RetriesStopped = f.CreateCounter(MetricNames.RetriesStopped + "_total",
            "Retryable failures answered to the client instead of tried again, by route and why: attempts, budget, deadline, retry_after, no_target.", ["route", "reason"]);
        BreakerState = f.CreateGauge(MetricNames.BreakerState, "Circuit breaker of each target in the config in force: 0 closed, 1 half-open, 2 open.", Target);
        BreakerTransitions = f.CreateCounter(MetricNames.BreakerTransitions + "_total", "Circuit breaker state changes, by target and the state changed to.", [.. Target, "to"]);
        ConfigReloads = f.CreateCounter(MetricNames.ConfigReloads + "_total", "Config reloads, by result: applied or rejected (the last good config stays).", ["result"]);
        RateLimited = f.CreateCounter(MetricNames.RateLimited + "_total",
            "Requests over a limit, by whose limit (scope: key, team, route; holder: its id), which (limit: rpm, tpm, concurrency) and what happened (result: refused, or shadow: counted, not refused).",
            ["scope", "holder", "limit", "result"]);
        LimitStoreFailures = f.CreateCounter(MetricNames.LimitStoreFailures + "_total",
            "Requests whose limits the store could not decide in time (timeout, error, breaker open), by store and what decided instead (mode: open, the replica alone; closed, refused 503).",
            ["store", "mode"]);
        BudgetSpent = f.CreateGauge(MetricNames.BudgetSpent,
            "What a budget has spent in its current period, in USD, as this replica last read or charged it (scope: key, team; holder: its id).",
            ["scope", "holder"]);
        BudgetLimit = f.CreateGauge(MetricNames.BudgetLimit, "A budget's limit per period in USD, for the budgets this replica has read or charged.", ["scope", "holder"]);
        BudgetThresholdsCrossed = f.CreateCounter(MetricNames.BudgetThresholdsCrossed + "_total",
            "Charges that took a budget's spend from below a soft threshold to at or over it, by whose budget and which threshold (a fraction of the limit).",
            ["scope", "holder", "threshold"]);
        BudgetChargeFailures = f.CreateCounter(MetricNames.BudgetChargeFailures + "_total",
            "Charges the budget store did not take (failed or timed out): that spend is missing from the budgets.", ["store"]);
        BudgetStoreFailures = f.CreateCounter(MetricNames.BudgetStoreFailures + "_total",
            "Requests whose budgets the store could not read in time, by store and what decided instead (mode: open, admitted; closed, refused 503).",
            ["store", "mode"]);
        CacheRequests = f.CreateCounter(MetricNames.CacheRequests + "_total",
            "Requests to routes with a response cache, by route and result: hit (answered from the cache, no provider called) or miss.", ["route", "result"]);
        CacheStoreFailures = f.CreateCounter(MetricNames.CacheStoreFailures + "_total",
            "Response cache store calls that failed or timed out, by store and operation: read (the request was a miss) or write (the answer was not stored).",
            ["store", "operation"]);
        ConfigLastReload = f.CreateGauge(MetricNames.ConfigLastReload, "Unix time the config in force was loaded.");
    }

    public Prometheus.Counter Requests { get; }
    public Prometheus.Histogram Duration { get; }
    public Prometheus.Histogram Overhead { get; }
    public Prometheus.Histogram UpstreamTtfb { get; }
    public Prometheus.Histogram TimeToFirstToken { get; }
    public Prometheus.Histogram ChunkGap { get; }
    public Prometheus.Counter Tokens { get; }
    public Prometheus.Counter Cost { get; }
    public Prometheus.Gauge InFlight { get; }
    public Prometheus.Counter ClientApiRequests { get; }
    public Prometheus.Counter Rejected { get; }
    public Prometheus.Counter Exhausted { get; }
    public Prometheus.Counter RateLimited { get; }
    public Prometheus.Counter LimitStoreFailures { get; }
    public Prometheus.Gauge BudgetSpent { get; }
    public Prometheus.Gauge BudgetLimit { get; }
    public Prometheus.Counter BudgetThresholdsCrossed { get; }
    public Prometheus.Counter BudgetChargeFailures { get; }
    public Prometheus.Counter BudgetStoreFailures { get; }
    public Prometheus.Counter CacheRequests { get; }
    public Prometheus.Counter CacheStoreFailures { get; }
    public Prometheus.Counter UpstreamErrors { get; }
    public Prometheus.Counter Retries { get; }
    public Prometheus.Counter Fallbacks { get; }
    public Prometheus.Counter RetriesStopped { get; }
    public Prometheus.Gauge BreakerState { get; }
    public Prometheus.Counter BreakerTransitions { get; }
    public Prometheus.Counter ConfigReloads { get; }
    public Prometheus.Gauge ConfigLastReload { get; }

    private static Prometheus.Histogram Latency(IMetricFactory f, string name, string help) =>
        f.CreateHistogram(name, help, Target, new HistogramConfiguration { Buckets = LatencyBuckets.UpperBoundsSeconds });
}
