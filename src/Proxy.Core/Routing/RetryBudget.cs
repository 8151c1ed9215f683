namespace Proxy.Routing;

/// <summary>
/// The retries a route may still make (<see cref="RetryBudgetSettings"/>): every request deposits, every retry or
/// fallback withdraws. When it is spent, retryable failures go back to the client instead of to another upstream,
/// so an outage costs the upstreams at most (1 + ratio) times the normal load. Lock-free; approximate under races.
/// </summary>
public sealed class RetryBudget(RetryBudgetSettings settings, TimeProvider time)
{
    private readonly SlidingCounts _counts = new(settings.Window, time);

    public RetryBudgetSettings Settings { get; } = settings;

    /// <summary>Counts one request of the route (its first attempt).</summary>
    public void OnRequest() => _counts.Add(1, 0);

    /// <summary>Takes one retry from the budget; false when it is spent.</summary>
    public bool TryWithdraw()
    {
        var (requests, retries) = _counts.Sum();
        double allowed = Math.Max(Settings.MinPerSecond * _counts.WindowSeconds, Settings.Ratio * requests);
        if (retries >= allowed) return false;
        _counts.Add(0, 1);
        return true;
    }
}
