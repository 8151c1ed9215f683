using Proxy.Cache;
using StackExchange.Redis;

namespace Proxy.Redis;

/// <summary>
/// The response cache shared by every replica: each entry is a Redis string <c>{prefix}:cache:&lt;hex key&gt;</c>, read
/// with GET and written with SET and a time to live in milliseconds (PX), so Redis drops it when it expires. Size is
/// Redis's to bound (maxmemory with an LRU eviction policy). No timeout here: the cache stage bounds every read and
/// turns a failure into a miss, and counts a write that fails.
/// </summary>
public sealed class RedisResponseCache : IResponseCache
{
    private readonly IDatabase _db;
    private readonly string _keyPrefix;

    /// <param name="db">The database the entries live in.</param>
    /// <param name="prefix">The hash tag every key starts with (<c>{llmgw}:cache:</c> by default).</param>
    public RedisResponseCache(IDatabase db, string prefix = RedisLimitStore.DefaultPrefix)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _db = db;
        _keyPrefix = "{" + prefix + "}:cache:";
    }

    public RedisResponseCache(IConnectionMultiplexer redis, string prefix = RedisLimitStore.DefaultPrefix)
        : this(redis.GetDatabase(), prefix)
    {
    }

    public string Name => "redis";

    /// <summary>The Redis key of an entry, e.g. <c>{llmgw}:cache:9f86d0…</c>.</summary>
    public RedisKey KeyOf(string key) => _keyPrefix + key;

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken ct)
    {
        var pending = _db.StringGetAsync(KeyOf(key));
        var value = ct.CanBeCanceled ? await pending.WaitAsync(ct).ConfigureAwait(false) : await pending.ConfigureAwait(false);
        return value.IsNull ? null : (byte[]?)value;
    }

    public async ValueTask SetAsync(string key, byte[] value, TimeSpan ttl)
    {
        // PX: Redis keeps milliseconds; at least one, so an entry is never written without an expiry.
        long ms = Math.Max(1, (long)ttl.TotalMilliseconds);
        await _db.ExecuteAsync("SET", new object[] { KeyOf(key), value, "PX", ms }).ConfigureAwait(false);
    }
}
