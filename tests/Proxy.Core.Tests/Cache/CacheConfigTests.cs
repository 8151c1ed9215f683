using Proxy.Cache;
using Proxy.Config;

namespace Proxy.Core.Tests.Cache;

/// <summary>The cache: section and a route's cache: block: opt-in per route, defaults, and mistakes named with their path and line.</summary>
public sealed class CacheConfigTests
{
    private static string Config(string top = "", string routeExtra = "") => $$"""
        {{top}}
        providers:
          mock: { type: mock }
        routes:
          fast:
            provider: mock
        {{routeExtra}}
          plain:
            provider: mock
        keys:
          - id: team-a
            hash: {{ConfigLoaderTests.DemoHash}}
        """;

    [Fact]
    public void RouteCache_OptIn_WithItsSettings()
    {
        var c = ConfigLoaderTests.Parse(Config(
            top: "cache: { store: memory, max_bytes: 64MiB }",
            routeExtra: "    cache: { ttl: 90s, per_key: true, max_entry_bytes: 256KiB }"));
        Assert.Equal(new RouteCachePolicy { Ttl = TimeSpan.FromSeconds(90), PerKey = true, MaxEntryBytes = 256 * 1024 }, c.Routes["fast"].Cache);
        Assert.Null(c.Routes["plain"].Cache);
        Assert.Equal(("memory", 64L << 20), (c.Cache.Store, c.Cache.MaxBytes));
    }

    [Fact]
    public void Defaults_TenMinutesSharedOneMiB_InMemory256MiB()
    {
        var c = ConfigLoaderTests.Parse(Config(routeExtra: "    cache: {}"));
        Assert.Equal(new RouteCachePolicy { Ttl = TimeSpan.FromMinutes(10), PerKey = false, MaxEntryBytes = 1 << 20 }, c.Routes["fast"].Cache);
        Assert.Equal(("memory", 256L << 20), (c.Cache.Store, c.Cache.MaxBytes));
        Assert.Null(ConfigLoaderTests.Parse(Config()).Routes["fast"].Cache);
    }

    [Fact]
    public void RedisStore_NeedsTheRedisSection()
    {
        var c = ConfigLoaderTests.Parse(Config(top: "redis: { url: \"redis://cache:6379\" }\ncache: { store: redis }"));
        Assert.Equal("redis", c.Cache.Store);
    }

    [Theory]
    [InlineData("cache: { store: redis }", "", "cache.store", "needs a 'redis:' section")]
    [InlineData("cache: { store: memcached }", "", "cache.store", "unknown store 'memcached'; one of: memory, redis")]
    [InlineData("cache: { max_bytes: 12 }", "", "cache.max_bytes", "at least 1MiB")]
    [InlineData("cache: { max_bytes: lots }", "", "cache.max_bytes", "not a positive size")]
    [InlineData("cache: { size: 1MiB }", "", "cache.size", "unknown field 'size'")]
    [InlineData("redis: { url: \"redis://r:6379\" }\ncache: { store: redis, max_bytes: 1GiB }", "", "cache.max_bytes", "bounds the in-memory store only")]
    [InlineData("", "    cache: { ttl: 0s }", "routes.fast.cache.ttl", "at least 1s and at most 720h")]
    [InlineData("", "    cache: { ttl: 1000h }", "routes.fast.cache.ttl", "at least 1s and at most 720h")]
    [InlineData("", "    cache: { ttl: soon }", "routes.fast.cache.ttl", "not a duration")]
    [InlineData("", "    cache: { per_key: maybe }", "routes.fast.cache.per_key", "not true or false")]
    [InlineData("", "    cache: { max_entry_bytes: 65MiB }", "routes.fast.cache.max_entry_bytes", "at most 64MiB")]
    [InlineData("cache: { max_bytes: 2MiB }", "    cache: { max_entry_bytes: 4MiB }", "routes.fast.cache.max_entry_bytes", "larger than the whole in-memory cache")]
    [InlineData("", "    cache: { tll: 10m }", "routes.fast.cache.tll", "did you mean 'ttl'?")]
    [InlineData("", "    cache: true", "routes.fast.cache", "expected a mapping: 'cache: {}' caches with the defaults")]
    [InlineData("", "    cache:", "routes.fast.cache", "expected a mapping")]
    public void Mistakes_NamedWithTheirPathAndLine(string top, string routeExtra, string path, string reason)
    {
        var e = ConfigLoaderTests.Invalid(Config(top: top, routeExtra: routeExtra));
        var error = Assert.Single(e.Errors, x => x.Path == path);
        Assert.Contains(reason, error.Reason, StringComparison.Ordinal);
        Assert.True(error.Line > 0);
    }
}
