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
