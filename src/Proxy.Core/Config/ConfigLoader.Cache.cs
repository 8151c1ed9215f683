using Proxy.Cache;
using YamlDotNet.RepresentationModel;

namespace Proxy.Config;

/// <summary>The top-level <c>cache:</c> section (the store) and a route's <c>cache:</c> block (its policy).</summary>
public sealed partial class ConfigLoader
{
    private static readonly string[] CacheFields = ["store", "max_bytes"];
    private static readonly string[] RouteCacheFields = ["ttl", "per_key", "max_entry_bytes"];
    private static readonly TimeSpan MaxCacheTtl = TimeSpan.FromDays(30);
    private const long MaxCacheEntryBytes = 64L << 20;

    private static CacheSettings ReadCacheSettings(YamlReader r, YamlNode? node, RedisSettings? redis)
    {
        var settings = new CacheSettings();
        var map = r.Mapping(node, "cache");
        if (map is null) return settings;
        YamlNode? maxBytesNode = null;
        foreach (var (key, v, p) in r.Entries(map, "cache", CacheFields))
        {
            switch (key)
            {
                case "store": if (ReadStore(r, v, p, redis) is { } store) settings = settings with { Store = store }; break;
                case "max_bytes":
                    maxBytesNode = v;
                    if (r.Size(v, p) is { } max)
                    {
                        if (max < 1L << 20) r.Error(v, p, "must be at least 1MiB: the in-memory cache holds whole answers");
                        else settings = settings with { MaxBytes = max };
                    }
                    break;
            }
        }
        if (settings.Store == "redis" && maxBytesNode is not null)
            r.Error(maxBytesNode, "cache.max_bytes", "bounds the in-memory store only; with store 'redis', Redis's maxmemory and its eviction policy (allkeys-lru) bound the cache");
        return settings;
    }

    /// <summary>A route's <c>cache:</c> block; <c>cache: {}</c> caches with the defaults.</summary>
    private static RouteCachePolicy? ReadRouteCache(YamlReader r, YamlNode node, string path, CacheSettings cache)
    {
        var policy = new RouteCachePolicy();
        if (node is not YamlMappingNode map)
        {
            r.Error(node, path, "expected a mapping: 'cache: {}' caches with the defaults (ttl 10m, per_key false, max_entry_bytes 1MiB); leave it out not to cache");
            return null;
        }
        foreach (var (key, v, p) in r.Entries(map, path, RouteCacheFields))
        {
            switch (key)
            {
                case "ttl":
                    if (r.Duration(v, p) is { } ttl)
                    {
                        if (ttl < TimeSpan.FromSeconds(1) || ttl > MaxCacheTtl) r.Error(v, p, "must be at least 1s and at most 720h (30 days)");
                        else policy = policy with { Ttl = ttl };
                    }
                    break;
                case "per_key": if (r.Bool(v, p) is { } perKey) policy = policy with { PerKey = perKey }; break;
                case "max_entry_bytes":
                    if (r.Size(v, p) is { } max)
                    {
                        if (max > MaxCacheEntryBytes) r.Error(v, p, "must be at most 64MiB: a miss holds its whole answer in memory until it is stored");
                        else if (cache.Store == "memory" && max > cache.MaxBytes)
                            r.Error(v, p, $"is larger than the whole in-memory cache (cache.max_bytes: {cache.MaxBytes} bytes): no answer of that size could be kept");
                        else policy = policy with { MaxEntryBytes = (int)max };
                    }
                    break;
            }
        }
        return policy;
    }
}
