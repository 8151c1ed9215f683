using Proxy.Cache;
using Proxy.Config;
using Proxy.Host.Limits;
using Proxy.Metrics;

namespace Proxy.Host.Cache;

/// <summary>
/// Builds the response cache stage from the config's <c>cache:</c> section at start, the store plugged in by name:
/// <c>memory</c> (the embedded default, bounded by <c>max_bytes</c>) or <c>redis</c> (shared by every replica, each read
/// bounded by <c>limits.timeout</c>). Which routes cache, and how, reloads with the config.
/// </summary>
public static class CacheSetup
{
    public static CacheStage Create(GatewayConfig config, RedisStores redis, TimeProvider time, GatewayMetrics metrics, ILoggerFactory loggers)
    {
        var settings = config.Cache;
        IResponseCache store = settings.Store switch
        {
            "redis" => redis.Cache(),
            _ => new InMemoryResponseCache(settings.MaxBytes, time),
        };
        return new CacheStage(store, config.Limits.Timeout, metrics, loggers.CreateLogger("Proxy.Cache"), time);
    }
}
