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
    private readonly ConcurrentDictionary<(string, string, string), TargetSeries> _targets = new();
    private readonly ConcurrentDictionary<string, ProviderSeries> _providers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RouteSeries> _routes = new(StringComparer.Ordinal);

    /// <summary>The config last bound: its breakers are the state gauge's samples (a removed target has no state).</summary>
    private GatewayConfig? _bound;
    private readonly Counter[] _rejected = [.. RejectReasons.All.Select(_ => new Counter())];
    private readonly Counter[] _exhausted = [.. ResourceOperations.All.Select(_ => new Counter())];
    private readonly List<IMetricsSource> _sources = [];

    public Gauge InFlight { get; } = new();
    public Counter ConfigReloads { get; } = new();
    public Counter ConfigReloadFailures { get; } = new();
    public Gauge ConfigLastReloadUnixSeconds { get; } = new();

    /// <summary>Makes (or finds) the series for every route target and provider of <paramref name="config"/>.</summary>
    public void Bind(GatewayConfig config)
    {
        foreach (var provider in config.Providers.Values) provider.Metrics = ProviderFor(provider.Name);
        foreach (var route in config.Routes.Values)
        {
            route.Metrics = _routes.GetOrAdd(route.Name, static r => new RouteSeries(r));
            foreach (var target in route.Targets) target.Metrics = TargetFor(route.Name, target.Provider.Name, target.UpstreamModel);
        }
        Volatile.Write(ref _bound, config);
        ConfigLastReloadUnixSeconds.Set(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    public void AddSource(IMetricsSource source)
    {
        lock (_sources) _sources.Add(source);
    }

    public void Reject(RejectReason reason) => _rejected[(int)reason].Increment();

    /// <summary>The gateway ran out of file descriptors (EMFILE/ENFILE) doing <paramref name="operation"/>: its own exhaustion, never an upstream's.</summary>
    public void Exhausted(ResourceOperation operation) => _exhausted[(int)operation].Increment();

    /// <summary>Accounts one finished request from its log record (the same numbers the log keeps).</summary>
    public void Observe(RequestRecord record, CallOutcome outcome)
    {
        var series = outcome.Target?.Metrics ?? TargetFor(outcome.Route?.Name ?? Labels.Other, Labels.None, Labels.None);
        series.CountRequest(record.Status, record.ErrorClass);
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
        }
        if (record.CostNanoUsd > 0) series.CostNanoUsd.Add(record.CostNanoUsd);
        if (outcome.UpstreamError is { } kind) outcome.Target?.Provider.Metrics?.CountError(kind);
        // Not retried (UpstreamRelay.DescribeSendFailure), so a request's last failure is its only one of this kind.
        if (outcome.FailureReason == Routing.FailureReasons.GatewayResources) Exhausted(ResourceOperation.UpstreamConnect);
    }

    internal TargetSeries TargetFor(string route, string provider, string model)
    {
        var key = (route, provider, model);
        return _targets.TryGetValue(key, out var s) ? s : _targets.GetOrAdd(key, static k => new TargetSeries(k.Item1, k.Item2, k.Item3));
    }

    internal ProviderSeries ProviderFor(string provider) => _providers.GetOrAdd(provider, static p => new ProviderSeries(p));

    /// <summary>Writes every family; the caller sets the content type from <see cref="ExpositionWriter.OpenMetrics"/>.</summary>
    public void WriteTo(ExpositionWriter w)
    {
        var targets = _targets.Values.OrderBy(t => t.Route, StringComparer.Ordinal).ThenBy(t => t.Provider, StringComparer.Ordinal)
            .ThenBy(t => t.Model, StringComparer.Ordinal).ToArray();

        w.Counter(MetricNames.Requests, "Requests answered, by route, provider, upstream model, HTTP status and error class.");
        foreach (var t in targets)
        {
            foreach (var (status, errorClass, value) in t.RequestCounts())
            {
                w.CounterSample(MetricNames.Requests, t.LabelBytes, value, Labels.Render(("status", status.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("error_class", errorClass)));
            }
        }

        WriteHistograms(w, targets, MetricNames.RequestDuration, "Time from the request's arrival to its last byte.", t => t.Duration);
        WriteHistograms(w, targets, MetricNames.Overhead, "Time the gateway added: request duration minus the time spent waiting on the upstream.", t => t.Overhead);
        WriteHistograms(w, targets, MetricNames.UpstreamTtfb, "Time from sending a request upstream to the upstream's response headers.", t => t.UpstreamTtfb);
        WriteHistograms(w, targets, MetricNames.TimeToFirstToken, "Streams: time from the request's arrival to the first event sent to the client.", t => t.TimeToFirstToken);
        WriteHistograms(w, targets, MetricNames.ChunkGap, "Streams: time between consecutive writes of events to the client.", t => t.ChunkGap);

        w.Counter(MetricNames.Tokens, "Tokens the providers reported, by type: prompt (cached included), completion, and cached prompt tokens.");
        foreach (var t in targets)
        {
            w.CounterSample(MetricNames.Tokens, t.LabelBytes, t.PromptTokens.Value, "type=\"prompt\""u8);
            w.CounterSample(MetricNames.Tokens, t.LabelBytes, t.CompletionTokens.Value, "type=\"completion\""u8);
            w.CounterSample(MetricNames.Tokens, t.LabelBytes, t.CachedTokens.Value, "type=\"cached\""u8);
        }

        w.Counter(MetricNames.Cost, "Cost of the reported tokens in USD, from the price table (built in, overridable under pricing:).");
        foreach (var t in targets) w.CounterSample(MetricNames.Cost, t.LabelBytes, t.CostNanoUsd.Value / 1e9);

        w.Gauge(MetricNames.InFlight, "Requests being handled now.");
        w.GaugeSample(MetricNames.InFlight, default, InFlight.Value);

        w.Counter(MetricNames.Rejected, "Requests refused before reaching a provider, by reason.");
        for (int i = 0; i < _rejected.Length; i++)
        {
            w.CounterSample(MetricNames.Rejected, default, _rejected[i].Value, RejectReasons.LabelBytes[i]);
        }

        w.Counter(MetricNames.ResourceExhaustion,
            "Operations that failed because the gateway ran out of file descriptors (EMFILE/ENFILE), by operation: upstream_connect (answered 503 gateway_resources), accept (the listener backs off).");
        for (int i = 0; i < _exhausted.Length; i++)
        {
            w.CounterSample(MetricNames.ResourceExhaustion, default, _exhausted[i].Value, ResourceOperations.LabelBytes[i]);
        }

        w.Counter(MetricNames.UpstreamErrors, "Failed calls to providers, by provider and class.");
        foreach (var p in _providers.Values.OrderBy(p => p.Provider, StringComparer.Ordinal))
        {
            for (int i = 0; i < UpstreamErrors.All.Length; i++)
            {
                w.CounterSample(MetricNames.UpstreamErrors, p.LabelBytes, p.Errors(i), UpstreamErrorLabels[i]);
            }
        }

        WriteRouting(w, targets);

        w.Counter(MetricNames.ConfigReloads, "Config reloads, by result: applied or rejected (the last good config stays).");
        w.CounterSample(MetricNames.ConfigReloads, default, ConfigReloads.Value, "result=\"applied\""u8);
        w.CounterSample(MetricNames.ConfigReloads, default, ConfigReloadFailures.Value, "result=\"rejected\""u8);
        w.Gauge(MetricNames.ConfigLastReload, "Unix time the config in force was loaded.");
        w.GaugeSample(MetricNames.ConfigLastReload, default, ConfigLastReloadUnixSeconds.Value);

        IMetricsSource[] sources;
        lock (_sources) sources = [.. _sources];
        foreach (var source in sources) source.Write(w);
        w.End();
    }

    private void WriteRouting(ExpositionWriter w, TargetSeries[] targets)
    {
        w.Counter(MetricNames.Retries, "Attempts that failed and were tried again on the same target, by the target and why it failed.");
        foreach (var t in targets)
        {
            foreach (var (i, value) in t.Retries()) w.CounterSample(MetricNames.Retries, t.LabelBytes, value, ReasonLabels[i]);
        }
        w.Counter(MetricNames.Fallbacks, "Attempts that failed and moved the request to another target, by the target that failed and why.");
        foreach (var t in targets)
        {
            foreach (var (i, value) in t.Fallbacks()) w.CounterSample(MetricNames.Fallbacks, t.LabelBytes, value, ReasonLabels[i]);
        }
        w.Counter(MetricNames.RetriesStopped, "Retryable failures answered to the client instead of tried again, by route and why: attempts, budget, deadline, retry_after, no_target.");
        foreach (var r in _routes.Values.OrderBy(r => r.Route, StringComparer.Ordinal))
        {
            foreach (var (i, value) in r.Stopped()) w.CounterSample(MetricNames.RetriesStopped, r.LabelBytes, value, StopLabels[i]);
        }

        w.Gauge(MetricNames.BreakerState, "Circuit breaker of each target in the config in force: 0 closed, 1 half-open, 2 open.");
        if (Volatile.Read(ref _bound) is { } config)
        {
            foreach (var route in config.Routes.Values.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                foreach (var target in route.Targets)
                {
                    if (target is { Breaker: { } b, Metrics: { } m }) w.GaugeSample(MetricNames.BreakerState, m.LabelBytes, (int)b.State);
                }
            }
        }
        w.Counter(MetricNames.BreakerTransitions, "Circuit breaker state changes, by target and the state changed to.");
        foreach (var t in targets)
        {
            foreach (var (i, value) in t.Transitions()) w.CounterSample(MetricNames.BreakerTransitions, t.LabelBytes, value, TransitionLabels[i]);
        }
    }

    private static readonly byte[][] ReasonLabels = [.. Routing.FailureReasons.All.Select(r => Labels.Render(("reason", r)))];
    private static readonly byte[][] StopLabels = [.. Routing.StopReasons.All.Select(r => Labels.Render(("reason", r)))];
    private static readonly byte[][] TransitionLabels = [.. TargetSeries.BreakerTransitionNames.Select(t => Labels.Render(("to", t)))];

    private static readonly byte[][] UpstreamErrorLabels = [.. UpstreamErrors.All.Select(k => Labels.Render(("class", k)))];

    private static void WriteHistograms(ExpositionWriter w, TargetSeries[] targets, string name, string help, Func<TargetSeries, Histogram> pick)
    {
        w.Histogram(name, help);
        foreach (var t in targets) w.HistogramSample(name, t.LabelBytes, pick(t));
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
}

internal static class RejectReasons
{
    public static readonly string[] All = ["missing_key", "invalid_key", "model_not_allowed", "overloaded"];
    public static readonly byte[][] LabelBytes = [.. All.Select(r => Labels.Render(("reason", r)))];
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
    public static readonly byte[][] LabelBytes = [.. All.Select(r => Labels.Render(("operation", r)))];
}
