using System.Collections.Concurrent;

namespace Proxy.Metrics;

/// <summary>
/// Every request-path series of one (route, provider, upstream model): made when a config naming them is loaded,
/// reached from the route's target with no lookup by name, and kept across reloads so counters never go back.
/// </summary>
public sealed class TargetSeries
{
    // Keyed by status * ErrorClasses.Count + class: both are bounded (HTTP statuses, a fixed class list).
    private readonly ConcurrentDictionary<int, Counter> _requests = new();

    internal TargetSeries(string route, string provider, string model)
    {
        Route = route;
        Provider = provider;
        Model = model;
        LabelBytes = Labels.Render(("route", route), ("provider", provider), ("model", model));
    }

    public string Route { get; }
    public string Provider { get; }
    public string Model { get; }

    /// <summary><c>route="..",provider="..",model=".."</c>, escaped.</summary>
    internal byte[] LabelBytes { get; }

    public Histogram Duration { get; } = new();
    public Histogram Overhead { get; } = new();
    public Histogram UpstreamTtfb { get; } = new();
    public Histogram TimeToFirstToken { get; } = new();
    public Histogram ChunkGap { get; } = new();

    public Counter PromptTokens { get; } = new();
    public Counter CompletionTokens { get; } = new();
    public Counter CachedTokens { get; } = new();

    /// <summary>Cost in billionths of a USD, so it adds as an integer; exposed in USD.</summary>
    public Counter CostNanoUsd { get; } = new();

    // Made on first use: most targets never retry, and a counter is a striped array.
    private readonly Counter?[] _retries = new Counter?[Routing.FailureReasons.All.Length];
    private readonly Counter?[] _fallbacks = new Counter?[Routing.FailureReasons.All.Length];
    private readonly Counter?[] _transitions = new Counter?[BreakerTransitionNames.Length];

    /// <summary>An attempt on this target failed for <paramref name="reason"/> and the next one goes to it again.</summary>
    public void CountRetry(string reason) => LazyCounters.Bump(_retries, Routing.FailureReasons.IndexOf(reason));

    /// <summary>An attempt on this target failed for <paramref name="reason"/> and the next one goes to another target.</summary>
    public void CountFallback(string reason) => LazyCounters.Bump(_fallbacks, Routing.FailureReasons.IndexOf(reason));

    public void CountTransition(Routing.BreakerTransition transition)
    {
        if (transition != Routing.BreakerTransition.None) LazyCounters.Bump(_transitions, (int)transition - 1);
    }

    /// <summary>to="open", "half_open", "closed": the order of <see cref="Routing.BreakerTransition"/> after None.</summary>
    internal static readonly string[] BreakerTransitionNames = ["open", "half_open", "closed"];

    internal IEnumerable<(int Index, long Value)> Retries() => LazyCounters.Existing(_retries);
    internal IEnumerable<(int Index, long Value)> Fallbacks() => LazyCounters.Existing(_fallbacks);
    internal IEnumerable<(int Index, long Value)> Transitions() => LazyCounters.Existing(_transitions);

    public void CountRequest(int status, string? errorClass)
    {
        int key = Math.Clamp(status, 0, 999) * ErrorClasses.Count + ErrorClasses.IndexOf(errorClass);
        if (!_requests.TryGetValue(key, out var counter)) counter = _requests.GetOrAdd(key, static _ => new Counter());
        counter.Increment();
    }

    /// <summary>The request counters that exist, by (status, error class), in a stable order for the exposition.</summary>
    internal IEnumerable<(int Status, string ErrorClass, long Value)> RequestCounts() =>
        _requests.OrderBy(p => p.Key).Select(p => (p.Key / ErrorClasses.Count, ErrorClasses.Name(p.Key % ErrorClasses.Count), p.Value.Value));
}

/// <summary>Per-provider series: upstream failures by class.</summary>
public sealed class ProviderSeries
{
    private readonly Counter[] _errors = [.. UpstreamErrors.All.Select(_ => new Counter())];

    internal ProviderSeries(string provider)
    {
        Provider = provider;
        LabelBytes = Labels.Render(("provider", provider));
    }

    public string Provider { get; }

    internal byte[] LabelBytes { get; }

    public void CountError(string kind)
    {
        int i = UpstreamErrors.IndexOf(kind);
        if (i >= 0) _errors[i].Increment();
    }

    internal long Errors(int kindIndex) => _errors[kindIndex].Value;
}

/// <summary>Per-route series: retryable failures that went back to the client, by why they were not retried.</summary>
public sealed class RouteSeries
{
    private readonly Counter?[] _stopped = new Counter?[Routing.StopReasons.All.Length];

    internal RouteSeries(string route)
    {
        Route = route;
        LabelBytes = Labels.Render(("route", route));
    }

    public string Route { get; }

    internal byte[] LabelBytes { get; }

    public void CountStopped(string reason) => LazyCounters.Bump(_stopped, Array.IndexOf(Routing.StopReasons.All, reason));

    internal IEnumerable<(int Index, long Value)> Stopped() => LazyCounters.Existing(_stopped);
}

/// <summary>Labelled counters made on first use, so a label value that never happens adds no series.</summary>
internal static class LazyCounters
{
    public static void Bump(Counter?[] counters, int index)
    {
        if (index < 0) return;
        var counter = Volatile.Read(ref counters[index]);
        if (counter is null)
        {
            Interlocked.CompareExchange(ref counters[index], new Counter(), null);
            counter = counters[index]!;
        }
        counter.Increment();
    }

    public static IEnumerable<(int Index, long Value)> Existing(Counter?[] counters)
    {
        for (int i = 0; i < counters.Length; i++)
        {
            if (Volatile.Read(ref counters[i]) is { } c) yield return (i, c.Value);
        }
    }
}
