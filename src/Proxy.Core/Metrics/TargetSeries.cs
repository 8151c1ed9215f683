using System.Collections.Concurrent;
using System.Globalization;

namespace Proxy.Metrics;

/// <summary>
/// Every request-path series of one (route, provider, upstream model): made when a config naming them is loaded,
/// reached from the route's target with no lookup by name, and kept across reloads so counters never go back.
/// </summary>
public sealed class TargetSeries
{
    private readonly MetricFamilies _families;

    // Keyed by status * ErrorClasses.Count + class: both are bounded (HTTP statuses, a fixed class list).
    private readonly ConcurrentDictionary<int, Counter> _requests = new();
    private readonly Prometheus.Counter.Child _cost;

    internal TargetSeries(MetricFamilies families, string route, string provider, string model)
    {
        _families = families;
        Route = route;
        Provider = provider;
        Model = model;
        Duration = new Histogram(families.Duration.WithLabels(route, provider, model));
        Overhead = new Histogram(families.Overhead.WithLabels(route, provider, model));
        UpstreamTtfb = new Histogram(families.UpstreamTtfb.WithLabels(route, provider, model));
        TimeToFirstToken = new Histogram(families.TimeToFirstToken.WithLabels(route, provider, model));
        ChunkGap = new Histogram(families.ChunkGap.WithLabels(route, provider, model));
        PromptTokens = new Counter(families.Tokens.WithLabels(route, provider, model, "prompt"));
        CompletionTokens = new Counter(families.Tokens.WithLabels(route, provider, model, "completion"));
        CachedTokens = new Counter(families.Tokens.WithLabels(route, provider, model, "cached"));
        CacheWriteTokens = new Counter(families.Tokens.WithLabels(route, provider, model, "cache_write"));
        _cost = families.Cost.WithLabels(route, provider, model);
    }

    public string Route { get; }
    public string Provider { get; }
    public string Model { get; }

    public Histogram Duration { get; }
    public Histogram Overhead { get; }
    public Histogram UpstreamTtfb { get; }
    public Histogram TimeToFirstToken { get; }
    public Histogram ChunkGap { get; }

    public Counter PromptTokens { get; }
    public Counter CompletionTokens { get; }
    public Counter CachedTokens { get; }
    public Counter CacheWriteTokens { get; }

    /// <summary>Adds a cost kept in billionths of a USD (exact integers in the pipeline); exposed in USD.</summary>
    public void AddCost(long nanoUsd) => _cost.Inc(nanoUsd / 1e9);

    // Made on first use: most targets never retry, so their label values add no series.
    private readonly Counter?[] _retries = new Counter?[Routing.FailureReasons.All.Length];
    private readonly Counter?[] _fallbacks = new Counter?[Routing.FailureReasons.All.Length];
    private readonly Counter?[] _transitions = new Counter?[BreakerTransitionNames.Length];

    /// <summary>An attempt on this target failed for <paramref name="reason"/> and the next one goes to it again.</summary>
    public void CountRetry(string reason) =>
        LazyCounters.Bump(_retries, Routing.FailureReasons.IndexOf(reason), i => _families.Retries.WithLabels(Route, Provider, Model, Routing.FailureReasons.All[i]));

    /// <summary>An attempt on this target failed for <paramref name="reason"/> and the next one goes to another target.</summary>
    public void CountFallback(string reason) =>
        LazyCounters.Bump(_fallbacks, Routing.FailureReasons.IndexOf(reason), i => _families.Fallbacks.WithLabels(Route, Provider, Model, Routing.FailureReasons.All[i]));

    public void CountTransition(Routing.BreakerTransition transition)
    {
        if (transition != Routing.BreakerTransition.None)
            LazyCounters.Bump(_transitions, (int)transition - 1, i => _families.BreakerTransitions.WithLabels(Route, Provider, Model, BreakerTransitionNames[i]));
    }

    /// <summary>to="open", "half_open", "closed": the order of <see cref="Routing.BreakerTransition"/> after None.</summary>
    internal static readonly string[] BreakerTransitionNames = ["open", "half_open", "closed"];

    public void CountRequest(int status, string? errorClass)
    {
        int key = Math.Clamp(status, 0, 999) * ErrorClasses.Count + ErrorClasses.IndexOf(errorClass);
        if (!_requests.TryGetValue(key, out var counter)) counter = _requests.GetOrAdd(key, NewRequestCounter);
        counter.Increment();
    }

    private Counter NewRequestCounter(int key) => new(_families.Requests.WithLabels(Route, Provider, Model,
        (key / ErrorClasses.Count).ToString(CultureInfo.InvariantCulture), ErrorClasses.Name(key % ErrorClasses.Count)));

    /// <summary>The request counters that exist, by (status, error class).</summary>
    internal IEnumerable<(int Status, string ErrorClass, long Value)> RequestCounts() =>
        _requests.OrderBy(p => p.Key).Select(p => (p.Key / ErrorClasses.Count, ErrorClasses.Name(p.Key % ErrorClasses.Count), p.Value.Value));
}

/// <summary>Per-provider series: upstream failures by class (every class, from the start).</summary>
public sealed class ProviderSeries
{
    private readonly Counter[] _errors;

    internal ProviderSeries(MetricFamilies families, string provider)
    {
        Provider = provider;
        _errors = [.. UpstreamErrors.All.Select(kind => new Counter(families.UpstreamErrors.WithLabels(provider, kind)))];
    }

    public string Provider { get; }

    public void CountError(string kind)
    {
        int i = UpstreamErrors.IndexOf(kind);
        if (i >= 0) _errors[i].Increment();
    }
}

/// <summary>Per-route series: retryable failures that went back to the client, by why they were not retried; response cache hits and misses.</summary>
public sealed class RouteSeries
{
    private static readonly string[] CacheResults = ["miss", "hit"];

    private readonly MetricFamilies _families;
    private readonly Counter?[] _stopped = new Counter?[Routing.StopReasons.All.Length];
    private readonly Counter?[] _cache = new Counter?[2];

    internal RouteSeries(MetricFamilies families, string route)
    {
        _families = families;
        Route = route;
    }

    public string Route { get; }

    public void CountStopped(string reason) =>
        LazyCounters.Bump(_stopped, Array.IndexOf(Routing.StopReasons.All, reason), i => _families.RetriesStopped.WithLabels(Route, Routing.StopReasons.All[i]));

    /// <summary>A request on this route's response cache: a hit or a miss.</summary>
    public void CountCache(bool hit) => LazyCounters.Bump(_cache, hit ? 1 : 0, i => _families.CacheRequests.WithLabels(Route, CacheResults[i]));
}

/// <summary>Labelled counters made on first use, so a label value that never happens adds no series.</summary>
internal static class LazyCounters
{
    public static void Bump(Counter?[] counters, int index, Func<int, Prometheus.Counter.Child> series)
    {
        if (index < 0) return;
        var counter = Volatile.Read(ref counters[index]);
        if (counter is null)
        {
            // prometheus-net hands out one child per label set, so a race here makes two wrappers of the same series.
            Interlocked.CompareExchange(ref counters[index], new Counter(series(index)), null);
            counter = counters[index]!;
        }
        counter.Increment();
    }
}
