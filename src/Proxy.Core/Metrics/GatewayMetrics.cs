using System.Collections.Concurrent;
using Proxy.Accounting;
using Proxy.Config;

namespace Proxy.Metrics;

/// <summary>
/// The gateway's metrics: request-path series bound to each config's routes and providers, the counters the
/// pipeline bumps, and the sources scraped on demand. Updates are lock-free; names and help are in
/// <see cref="MetricNames"/>, documented in the README.
/// </summary>
public sealed class GatewayMetrics
{
    private readonly MetricFamilies _families;
    private readonly ConcurrentDictionary<(string, string, string), TargetSeries> _targets = new();
    private readonly ConcurrentDictionary<string, ProviderSeries> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RouteSeries> _routes = new(StringComparer.Ordinal);

    /// <summary>The config last bound: its breakers are the state gauge's samples (a removed target has no state).</summary>
    private GatewayConfig? _bound;
    private readonly HashSet<(string, string, string)> _breakerSeries = [];
    private readonly Counter[] _rejected;
    private readonly Counter[] _exhausted;
    private readonly Dictionary<string, Counter> _clientApis;
    private readonly List<IMetricsSource> _sources = [];

    public GatewayMetrics()
    {
        _families = new MetricFamilies(Prometheus.Metrics.WithCustomRegistry(Registry));
        _rejected = [.. RejectReasons.All.Select(r => new Counter(_families.Rejected.WithLabels(r)))];
        _exhausted = [.. ResourceOperations.All.Select(o => new Counter(_families.Exhausted.WithLabels(o)))];
        InFlight = new Gauge(_families.InFlight);
        _clientApis = ClientApis.ClientApi.All.ToDictionary(a => a.Name, a => new Counter(_families.ClientApiRequests.WithLabels(a.Name)), StringComparer.Ordinal);
        ConfigReloads = new Counter(_families.ConfigReloads.WithLabels("applied"));
        ConfigReloadFailures = new Counter(_families.ConfigReloads.WithLabels("rejected"));
        ConfigLastReloadUnixSeconds = new Gauge(_families.ConfigLastReload);
        Registry.AddBeforeCollectCallback(BeforeScrape);
    }

    /// <summary>Every family; /metrics exports it (prometheus-net writes both formats).</summary>
    public Prometheus.CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    public Gauge InFlight { get; }
    public Counter ConfigReloads { get; }
    public Counter ConfigReloadFailures { get; }
    public Gauge ConfigLastReloadUnixSeconds { get; }

    /// <summary>Makes (or finds) the series for every route target and provider of <paramref name="config"/>.</summary>
    public void Bind(GatewayConfig config)
    {
        foreach (var provider in config.Providers.Values) provider.Metrics = ProviderFor(provider.Name);
        foreach (var route in config.Routes.Values)
        {
            route.Metrics = _routes.GetOrAdd(route.Name, static (r, f) => new RouteSeries(f, r), _families);
            foreach (var target in route.Targets) target.Metrics = TargetFor(route.Name, target.Provider.Name, target.UpstreamModel);
        }
        Volatile.Write(ref _bound, config);
        ConfigLastReloadUnixSeconds.Set(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    /// <summary>Adds a part's own families to this registry; their values are read at each scrape.</summary>
    public void AddSource(IMetricsSource source)
    {
        lock (_sources)
        {
            source.Register(Prometheus.Metrics.WithCustomRegistry(Registry));
            _sources.Add(source);
        }
    }

    /// <summary>Writes every family in the text format, or OpenMetrics.</summary>
    public Task WriteToAsync(Stream output, bool openMetrics, CancellationToken ct) =>
        Registry.CollectAndExportAsTextAsync(output, Exposition.Format(openMetrics), ct);

    public void Reject(RejectReason reason) => _rejected[(int)reason].Increment();

    /// <summary>A request over a limit: refused, or counted only (a shadow limit). Rare, so the series is looked up each time.</summary>
    public void RateLimited(Limits.LimitRule rule, bool refused) =>
        _families.RateLimited.WithLabels(Limits.LimitRule.ScopeName(rule.Scope), rule.Holder, Limits.LimitRule.KindName(rule.Kind), refused ? "refused" : "shadow").Inc();

    /// <summary>The limit store did not decide in time; <paramref name="failedClosed"/>: the request was refused for it.</summary>
    /// <summary>A budget as this replica last read or charged it: its spend and its limit, in USD.</summary>
    public void BudgetSeen(Budgets.BudgetRule rule, long spentNanoUsd)
    {
        var scope = rule.ScopeText;
        _families.BudgetSpent.WithLabels(scope, rule.Holder).Set(spentNanoUsd / 1e9);
        _families.BudgetLimit.WithLabels(scope, rule.Holder).Set(rule.LimitNanoUsd / 1e9);
    }

    /// <summary>A charge took a budget's spend over its soft threshold <paramref name="index"/>.</summary>
    public void BudgetThresholdCrossed(Budgets.BudgetRule rule, int index) =>
        _families.BudgetThresholdsCrossed.WithLabels(rule.ScopeText, rule.Holder, rule.ThresholdLabels[index]).Inc();

    public void BudgetChargeFailed(string store) => _families.BudgetChargeFailures.WithLabels(store).Inc();

    public void BudgetStoreFailed(string store, bool failedClosed) => _families.BudgetStoreFailures.WithLabels(store, failedClosed ? "closed" : "open").Inc();

    public void LimitStoreFailed(string store, bool failedClosed) => _families.LimitStoreFailures.WithLabels(store, failedClosed ? "closed" : "open").Inc();

    /// <summary>A response cache store call failed or timed out: a read (the request went on as a miss) or a write (the answer was not kept).</summary>
    public void CacheStoreFailed(string store, bool write) => _families.CacheStoreFailures.WithLabels(store, write ? "write" : "read").Inc();

    /// <summary>The gateway ran out of file descriptors (EMFILE/ENFILE) doing <paramref name="operation"/>: its own exhaustion, never an upstream's.</summary>
    public void Exhausted(ResourceOperation operation) => _exhausted[(int)operation].Increment();

    /// <summary>Accounts one finished request from its log record (the same numbers the log keeps).</summary>
    public void Observe(RequestRecord record, CallOutcome outcome)
    {
        var series = outcome.Target?.Metrics ?? TargetFor(outcome.Route?.Name ?? Labels.Other, Labels.None, Labels.None);
        series.CountRequest(record.Status, record.ErrorClass);
        if (_clientApis.TryGetValue(record.ClientApi, out var api)) api.Increment();
        series.Duration.Observe(record.TotalUs);
        series.Overhead.Observe(record.GatewayOverheadUs);
        // By whether the step happened, not by its duration: an in-process answer can take under a microsecond.
        if (outcome.UpstreamHeaders != 0) series.UpstreamTtfb.Observe(record.UpstreamTtfbUs);
        if (outcome.FirstEvent != 0) series.TimeToFirstToken.Observe(record.TtftUs);
        if (record.UsageReported)
        {
            series.PromptTokens.Add(record.PromptTokens);
            series.CompletionTokens.Add(record.CompletionTokens);
            series.CachedTokens.Add(record.CachedTokens);
            series.CacheWriteTokens.Add(record.CacheWriteTokens);
        }
        if (record.CostNanoUsd > 0) series.AddCost(record.CostNanoUsd);
        if (record.Cache is { } cache) outcome.Route?.Metrics?.CountCache(cache == Cache.CacheStage.Hit);
        if (outcome.UpstreamError is { } kind) outcome.Target?.Provider.Metrics?.CountError(kind);
        // Not retried (UpstreamRelay.DescribeSendFailure), so a request's last failure is its only one of this kind.
        if (outcome.FailureReason == Routing.FailureReasons.GatewayResources) Exhausted(ResourceOperation.UpstreamConnect);
    }

    internal TargetSeries TargetFor(string route, string provider, string model)
    {
        var key = (route, provider, model);
        return _targets.TryGetValue(key, out var s) ? s : _targets.GetOrAdd(key, static (k, f) => new TargetSeries(f, k.Item1, k.Item2, k.Item3), _families);
    }

    internal ProviderSeries ProviderFor(string provider) => _providers.GetOrAdd(provider, static (p, f) => new ProviderSeries(f, p), _families);

    /// <summary>
    /// Values read at scrape time: each breaker's state in the config in force (a target the config no longer has
    /// loses its series), and every source's families.
    /// </summary>
    private void BeforeScrape()
    {
        lock (_breakerSeries)
        {
            var current = new HashSet<(string, string, string)>();
            if (Volatile.Read(ref _bound) is { } config)
            {
                foreach (var route in config.Routes.Values)
                {
                    foreach (var target in route.Targets)
                    {
                        if (target is not { Breaker: { } b, Metrics: { } m }) continue;
                        _families.BreakerState.WithLabels(m.Route, m.Provider, m.Model).Set((int)b.State);
                        current.Add((m.Route, m.Provider, m.Model));
                    }
                }
            }
            foreach (var gone in _breakerSeries.Where(k => !current.Contains(k)))
                _families.BreakerState.WithLabels(gone.Item1, gone.Item2, gone.Item3).Remove();
            _breakerSeries.Clear();
            _breakerSeries.UnionWith(current);
        }
        IMetricsSource[] sources;
        lock (_sources) sources = [.. _sources];
        foreach (var source in sources) source.Update();
    }
}

/// <summary>Why a request was refused before any provider was called.</summary>
public enum RejectReason
{
    MissingKey,
    InvalidKey,
    ModelNotAllowed,

    /// <summary>At the concurrency cap (server.max_concurrent_requests): answered 503 gateway_overloaded.</summary>
    Overloaded,

    /// <summary>Over a key's, team's or route's limit: answered 429 rate_limit_exceeded.</summary>
    RateLimited,

    /// <summary>The limit store could not decide and the limit fails closed: answered 503 limits_unavailable.</summary>
    LimitsUnavailable,

    /// <summary>The key's or its team's budget is spent for the period: answered 429 budget_exceeded.</summary>
    BudgetExceeded,

    /// <summary>The budget store could not be read and the budget fails closed: answered 503 budgets_unavailable.</summary>
    BudgetsUnavailable,
}

internal static class RejectReasons
{
    public static readonly string[] All = ["missing_key", "invalid_key", "model_not_allowed", "overloaded", "rate_limited", "limits_unavailable", "budget_exceeded", "budgets_unavailable"];
}

/// <summary>What the gateway was doing when it ran out of file descriptors.</summary>
public enum ResourceOperation
{
    /// <summary>Opening a connection to a provider: the request is answered 503 gateway_resources.</summary>
    UpstreamConnect,

    /// <summary>Accepting a client connection: it waits in the listen backlog while the listener backs off.</summary>
    Accept,
}

internal static class ResourceOperations
{
    public static readonly string[] All = ["upstream_connect", "accept"];
}
