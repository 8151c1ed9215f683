using Proxy.Limits;
using StackExchange.Redis;

namespace Proxy.Redis.Tests;

internal static class RedisTestSupport
{
    public static readonly TimeSpan LongTtl = TimeSpan.FromSeconds(30);

    public static LimitRule Rule(LimitKind kind, long limit, bool shadow = false) =>
        new(LimitScope.Key, "t-" + Guid.NewGuid().ToString("N")[..12], kind, limit, shadow, StoreFailureMode.Open);

    public static string NewLease() => Guid.NewGuid().ToString("N");

    public static async Task<LimitDecision> Admit(this RedisLimitStore store, LimitRule rule, long cost = 1, string? lease = null, TimeSpan? ttl = null) =>
        await store.AdmitAsync([new LimitCheck(rule, cost)], lease ?? NewLease(), ttl ?? LongTtl, CancellationToken.None);

    /// <summary>
    /// Redis's current second, waiting first while less than 300 ms of it are left, so a test that seeds slots
    /// relative to it runs its script in the same second.
    /// </summary>
    public static async Task<long> EarlyInASecondAsync(this RedisFixture redis)
    {
        while (true)
        {
            var now = (await redis.TimeAsync()).ToUnixTimeMilliseconds();
            if (now % 1000 < 700) return now / 1000;
            await Task.Delay(TimeSpan.FromMilliseconds(1000 - now % 1000 + 5));
        }
    }

    /// <summary>A connection to a port where nothing listens, failing fast.</summary>
    public static ConnectionMultiplexer Dead()
    {
        var config = new ConfigurationOptions
        {
            AbortOnConnectFail = false,
            ConnectTimeout = 200,
            AsyncTimeout = 300,
            SyncTimeout = 300,
        };
        config.EndPoints.Add("127.0.0.1", RedisServer.FreePort());
        return ConnectionMultiplexer.Connect(config);
    }
}
