using Proxy.Budgets;
using Proxy.Config;
using Proxy.Metrics;

namespace Proxy.Host.Limits;

/// <summary>
/// Builds the budgets stage at start. Budgets live where limits do (<c>limits.store</c>): <c>memory</c> (this process)
/// or <c>redis</c> (shared by every replica over the limits' connection, behind <c>limits.timeout</c>, a breaker and
/// each budget's fail mode). The budgets themselves reload with the config.
/// </summary>
public static class BudgetsSetup
{
    public static BudgetsStage Create(GatewayConfig config, RedisStores redis, TimeProvider time, GatewayMetrics metrics, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Proxy.Budgets");
        IBudgetStore store = config.Limits.Store switch
        {
            "redis" => new GuardedBudgetStore(redis.Budgets(), config.Limits.Timeout, time),
            _ => new InMemoryBudgetStore(time),
        };
        return new BudgetsStage(store, metrics, logger);
    }
}
