using Proxy.Limits;

namespace Proxy.Redis.Tests;

/// <summary>The shared scenarios on the Redis store, against a real redis-server.</summary>
public sealed class RedisScenarios(RedisFixture redis) : LimitStoreScenarios, IClassFixture<RedisFixture>
{
    private readonly RedisLimitStore _store = new(redis.Redis);

    protected override ILimitStore Store => _store;
}
