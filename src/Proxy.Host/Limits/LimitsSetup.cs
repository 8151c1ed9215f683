using Proxy.Config;
using Proxy.Limits;
using Proxy.Metrics;

namespace Proxy.Host.Limits;

/// <summary>
/// Builds the limits stage from the config's <c>limits:</c> section at start, the store plugged in by name: <c>memory</c>
/// (the embedded default) or <c>redis</c> (shared by every replica, behind a deadline, a breaker and the fail mode).
/// </summary>
public static class LimitsSetup
{
    public static LimitsStage Create(GatewayConfig config, TimeProvider time, GatewayMetrics metrics, ILoggerFactory loggers, SharedRedis redis)
    {
        var logger = loggers.CreateLogger("Proxy.Limits");
        var settings = config.Limits;
        ILimitStore store = settings.Store switch
        {
            "redis" => new GuardedLimitStore(RedisStores.Limits(redis, loggers), settings.Timeout, settings.Replicas, time),
            _ => new InMemoryLimitStore(time),
        };
        var renewer = store is InMemoryLimitStore ? null : new LeaseRenewer(time, settings.LeaseTtl);
        return new LimitsStage(store, renewer, metrics, logger);
    }
}
