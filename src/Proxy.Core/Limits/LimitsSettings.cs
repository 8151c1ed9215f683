namespace Proxy.Limits;

/// <summary>The config's <c>limits:</c> section: where counters live and how the stage behaves around its store.</summary>
public sealed record LimitsSettings
{
    /// <summary><c>memory</c> (this process; the default) or <c>redis</c> (shared by every replica; needs <c>redis:</c>).</summary>
    public string Store { get; init; } = "memory";

    /// <summary>The longest a request waits for the store before the fail mode decides (Redis only).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The default fail mode of every limit; each limit may say its own.</summary>
    public StoreFailureMode OnStoreFailure { get; init; } = StoreFailureMode.Open;

    /// <summary>How many replicas share the limits: failing open, each decides alone at limit / replicas.</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>The output reserved for a request that sets no max_tokens (tokens per minute), reconciled after.</summary>
    public long DefaultOutputTokens { get; init; } = 1024;

    /// <summary>A concurrency lease's life: a replica that dies frees its leases within it; live ones renew at a third.</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(30);
}
