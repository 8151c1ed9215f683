namespace Proxy.Routing;

/// <summary>Which targets a route may use, given the region this replica runs in (<c>server.region</c>).</summary>
public enum RegionPolicy
{
    /// <summary>Every target, wherever it is.</summary>
    Any,

    /// <summary>Only targets tagged with this replica's region: a request never leaves it.</summary>
    Local,

    /// <summary>Targets in this replica's region first; the others only when none of those is available.</summary>
    PreferLocal,
}

/// <summary>How often and how patiently a request is tried again (README "Routes": retries).</summary>
public sealed record RetrySettings
{
    /// <summary>Most upstream attempts per request, the first included, across all targets.</summary>
    public int Attempts { get; init; } = 1;

    /// <summary>Delay before the first retry of a target; doubles with each further one, with jitter.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// The longest Retry-After the gateway waits out itself. Past it the target is not retried: the request moves to
    /// another target, or the client gets the answer with its Retry-After.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(10);

    public RetryBudgetSettings Budget { get; init; } = new();
}

/// <summary>
/// Retries a route may make across requests: at most <see cref="Ratio"/> of its requests in the last
/// <see cref="Window"/>, but always <see cref="MinPerSecond"/> per second, so a quiet route can still retry and
/// an outage cannot multiply the load on the upstreams (Finagle's RetryBudget, Envoy's retry_budget).
/// </summary>
public sealed record RetryBudgetSettings
{
    public double Ratio { get; init; } = 0.2;

    public int MinPerSecond { get; init; } = 5;

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>When a target's breaker opens, and how it comes back (README "Routes": circuit_breaker).</summary>
public sealed record BreakerSettings
{
    /// <summary>Null: on for routes with several targets, off for one-target routes (where opening only turns slow failures into fast ones).</summary>
    public bool? Enabled { get; init; }

    /// <summary>Opens after this many failures in a row; 0 turns this trigger off.</summary>
    public int ConsecutiveFailures { get; init; } = 5;

    /// <summary>Opens when this share of the calls in <see cref="Window"/> failed (with at least <see cref="MinRequests"/>); 0 turns it off.</summary>
    public double FailureRatio { get; init; } = 0.5;

    public int MinRequests { get; init; } = 20;

    public TimeSpan Window { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an open breaker skips its target before letting probes through.</summary>
    public TimeSpan OpenFor { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Probe requests let through at once when half-open; this many successes close the breaker.</summary>
    public int HalfOpenProbes { get; init; } = 1;
}

/// <summary>Timeouts as a route or target overrides them; null keeps the level below (provider, or none for total).</summary>
public sealed record TimeoutOverrides
{
    public TimeSpan? Connect { get; init; }
    public TimeSpan? FirstByte { get; init; }
    public TimeSpan? Idle { get; init; }
    public TimeSpan? Total { get; init; }

    public static TimeoutOverrides None { get; } = new();
}
