namespace Proxy.Config;

/// <summary>The config's <c>redis:</c> section: the Redis that limits (and later budgets and the cache) share. Read at start.</summary>
public sealed record RedisSettings
{
    /// <summary><c>redis://host:port[/db]</c>, <c>rediss://</c> for TLS (verified), or a StackExchange.Redis configuration string.</summary>
    public required string Url { get; init; }

    /// <summary>From a secret reference (<c>${env:REDIS_PASSWORD}</c>); never logged.</summary>
    public string? Password { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Prefix of every key the gateway writes (in one hash tag, so a cluster keeps a request's counters in one slot).</summary>
    public string KeyPrefix { get; init; } = "llmgw";
}
