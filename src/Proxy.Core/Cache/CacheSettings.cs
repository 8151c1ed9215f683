namespace Proxy.Cache;

/// <summary>The config's top-level <c>cache:</c> section: where cached answers live. Read at start.</summary>
public sealed record CacheSettings
{
    public const long DefaultMaxBytes = 256L << 20;

    /// <summary><c>memory</c> (this process, bounded by <see cref="MaxBytes"/>; the default) or <c>redis</c> (shared by every replica; needs <c>redis:</c>).</summary>
    public string Store { get; init; } = "memory";

    /// <summary>The in-memory store's bound: its entries' bytes (answers and keys) together; the least recently used go first.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;
}

/// <summary>
/// A route's <c>cache:</c> block: answers of the route are cached when it has one (opt-in), for <see cref="Ttl"/>, each
/// at most <see cref="MaxEntryBytes"/>, shared by every key unless <see cref="PerKey"/>.
/// </summary>
public sealed record RouteCachePolicy
{
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(10);
    public const int DefaultMaxEntryBytes = 1 << 20;

    public TimeSpan Ttl { get; init; } = DefaultTtl;

    /// <summary>Each key its own entries: the key's id is part of the cache key.</summary>
    public bool PerKey { get; init; }

    /// <summary>A larger answer is passed on and not cached.</summary>
    public int MaxEntryBytes { get; init; } = DefaultMaxEntryBytes;
}
