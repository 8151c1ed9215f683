using Proxy.Cache;
using Proxy.Core.Tests.Routing;

namespace Proxy.Core.Tests.Cache;

/// <summary>The embedded store on a manual clock: bounded by bytes (least recently used out first), expired entries never served.</summary>
public sealed class InMemoryResponseCacheTests
{
    private readonly ManualTime _time = new();

    private static string K(int i) => i.ToString("x64");

    private static byte[] Value(int size, byte fill = 1) => Enumerable.Repeat(fill, size).ToArray();

    private static async Task<byte[]?> Get(InMemoryResponseCache cache, string key) => await cache.GetAsync(key, CancellationToken.None);

    [Fact]
    public async Task ServedUntilItsTtl_NeverAfter()
    {
        var cache = new InMemoryResponseCache(1 << 20, _time);
        await cache.SetAsync(K(1), Value(10), TimeSpan.FromSeconds(60));
        _time.Advance(TimeSpan.FromSeconds(59.999));
        Assert.Equal(Value(10), await Get(cache, K(1)));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Null(await Get(cache, K(1)));
        Assert.Equal((0, 0L), (cache.Count, cache.Bytes)); // dropped when found expired
    }

    [Fact]
    public async Task BoundedByBytes_TheLeastRecentlyUsedGoesFirst()
    {
        // Each entry is 100 bytes of value + 64 of key: three fit in 500, a fourth evicts one.
        var cache = new InMemoryResponseCache(500, _time);
        for (int i = 1; i <= 3; i++) await cache.SetAsync(K(i), Value(100, (byte)i), TimeSpan.FromMinutes(10));
        Assert.Equal((3, 3 * 164L), (cache.Count, cache.Bytes));
        Assert.NotNull(await Get(cache, K(1))); // 1 is now the most recently used; 2 the least
        await cache.SetAsync(K(4), Value(100, 4), TimeSpan.FromMinutes(10));
        Assert.Null(await Get(cache, K(2)));
        Assert.Equal(Value(100, 1), await Get(cache, K(1)));
        Assert.Equal(Value(100, 3), await Get(cache, K(3)));
        Assert.Equal(Value(100, 4), await Get(cache, K(4)));
        Assert.True(cache.Bytes <= 500);

        // A large one evicts as many as it needs (364 bytes: the three others, least recently used first).
        await cache.SetAsync(K(5), Value(300, 5), TimeSpan.FromMinutes(10));
        Assert.Equal((1, 364L), (cache.Count, cache.Bytes));
        Assert.Equal(Value(300, 5), await Get(cache, K(5)));
    }

    [Fact]
    public async Task LargerThanTheWholeStore_NotKept_NothingEvicted()
    {
        var cache = new InMemoryResponseCache(500, _time);
        await cache.SetAsync(K(1), Value(100), TimeSpan.FromMinutes(1));
        await cache.SetAsync(K(2), Value(600), TimeSpan.FromMinutes(1));
        Assert.Null(await Get(cache, K(2)));
        Assert.NotNull(await Get(cache, K(1)));
    }

    [Fact]
    public async Task SetAgain_ReplacesTheEntryAndItsSize()
    {
        var cache = new InMemoryResponseCache(1000, _time);
        await cache.SetAsync(K(1), Value(100, 1), TimeSpan.FromSeconds(10));
        await cache.SetAsync(K(1), Value(50, 2), TimeSpan.FromSeconds(30));
        Assert.Equal((1, 50L + 64), (cache.Count, cache.Bytes));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(Value(50, 2), await Get(cache, K(1))); // the new entry's ttl
    }

    [Fact]
    public async Task ExpiredEntries_AreEvictedLikeAnyOther()
    {
        var cache = new InMemoryResponseCache(400, _time);
        await cache.SetAsync(K(1), Value(100), TimeSpan.FromSeconds(1));
        await cache.SetAsync(K(2), Value(100), TimeSpan.FromMinutes(1));
        _time.Advance(TimeSpan.FromSeconds(2));
        await cache.SetAsync(K(3), Value(100), TimeSpan.FromMinutes(1)); // 3 x 164 > 400: the oldest (expired) one goes
        Assert.Null(await Get(cache, K(1)));
        Assert.NotNull(await Get(cache, K(2)));
        Assert.NotNull(await Get(cache, K(3)));
    }
}
