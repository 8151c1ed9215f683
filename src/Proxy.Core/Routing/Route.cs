using Proxy.Config;

namespace Proxy.Routing;

/// <summary>
/// A name a client sends as <c>model</c>, the targets behind it, and how a request picks among them, retries and
/// gives up. Built once per config snapshot; the per-target state (breakers, latency) outlives reloads.
/// </summary>
public sealed class Route
{
    /// <summary>Targets a route may have: one bit each in the pickers' masks.</summary>
    public const int MaxTargets = 16;

    private int _cursor;

    public required string Name { get; init; }

    /// <summary>The targets this replica may use, in order of preference (for prefer_local, this region's first).</summary>
    public required Target[] Targets { get; init; }

    public RoutingStrategy Strategy { get; init; } = Strategies.SingleTarget.Instance;

    public RegionPolicy RegionPolicy { get; init; }

    /// <summary>Bit i set: target i is in the preferred tier (this region's, for prefer_local; every target otherwise).</summary>
    public uint PreferredMask { get; init; } = uint.MaxValue;

    public RetrySettings Retries { get; init; } = new();

    /// <summary>The route's limits, shared by every key that calls it.</summary>
    public Limits.LimitRule[] Limits { get; internal set; } = [];

    /// <summary>The route's response cache policy; null when its answers are not cached (the default).</summary>
    public Cache.RouteCachePolicy? Cache { get; internal set; }

    /// <summary>Settings of the targets' breakers; null when the route has none.</summary>
    public BreakerSettings? CircuitBreaker { get; init; }

    /// <summary>Deadline for the whole request, every attempt and wait included; zero is none.</summary>
    public TimeSpan TotalTimeout { get; init; }

    /// <summary>Shared by the route's requests; null when the route never retries (then nothing is counted for it).</summary>
    public RetryBudget? Budget { get; internal set; }

    /// <summary>The weighted strategy's smooth round-robin order of target indexes (nginx's smooth weighted round robin).</summary>
    public int[] Schedule { get; init; } = [];

    /// <summary>This route's own series (retries stopped), bound when the config is put in force.</summary>
    public Metrics.RouteSeries? Metrics { get; set; }

    /// <summary>The next entry of <see cref="Schedule"/>: one Interlocked step, shared by every request of the route.</summary>
    internal int NextScheduled() => Schedule[(int)((uint)Interlocked.Increment(ref _cursor) % (uint)Schedule.Length)];
}

/// <summary>One provider, the model name that provider knows, and this target's place and health in its route.</summary>
public sealed class Target
{
    public required ProviderSettings Provider { get; init; }

    public required string UpstreamModel { get; init; }

    /// <summary>The upstream model as a JSON string literal, quotes included, ready to splice into a body.</summary>
    public required byte[] UpstreamModelJson { get; init; }

    /// <summary>True when the client's model name can go upstream unchanged, so no splice is needed.</summary>
    public required bool SameNameUpstream { get; init; }

    /// <summary>The upstream model's price, or null when it is not known (its cost is then not counted).</summary>
    public Pricing.ModelPrice? Price { get; init; }

    /// <summary>This target's request series, bound when the config is put in force.</summary>
    public Metrics.TargetSeries? Metrics { get; set; }

    /// <summary>Where the target runs (a cloud region), as the config tags it; null when untagged.</summary>
    public string? Region { get; init; }

    /// <summary>Share of the weighted strategy's requests, relative to the other targets' weights.</summary>
    public int Weight { get; init; } = 1;

    /// <summary>Position in <see cref="Route.Targets"/>.</summary>
    public int Index { get; init; }

    /// <summary>Effective timeouts: the target's own, else the route's, else the provider's.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan FirstByteTimeout { get; init; } = TimeSpan.FromSeconds(120);
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Cap on one attempt at this target, from sending to the last byte; zero is none.</summary>
    public TimeSpan AttemptTimeout { get; init; }

    /// <summary>Null when the route has no breaker. Carried over a reload while provider and model stay the same.</summary>
    public CircuitBreaker? Breaker { get; internal set; }

    /// <summary>Moving average of time to first byte and calls in flight; kept for the latency strategy only.</summary>
    public LatencyScore? Latency { get; internal set; }

    /// <summary>The x-gateway-target header value, <c>provider/model</c>, made header-safe once at load.</summary>
    public string HeaderValue { get; init; } = "";
}
