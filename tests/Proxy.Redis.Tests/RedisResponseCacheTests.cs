using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Accounting;
using Proxy.Cache;
using Proxy.Keys;
using Proxy.Metrics;
using Proxy.Routing;
using static Proxy.Redis.Tests.RedisTestSupport;

namespace Proxy.Redis.Tests;

/// <summary>
/// The Redis response cache against a real redis-server: entries shared by every connection (replica), one string key
/// each with its time to live in milliseconds, gone when it expires; and the cache stage over it, for which a Redis that
/// is dead or frozen is a miss within the timeout, never an error.
/// </summary>
public sealed class RedisResponseCacheTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisResponseCache _cache = new(redis.Redis);

    private static string NewKey() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());

    [Fact]
    public async Task AnEntrySetOnOneConnection_IsReadOnAnother_ByteForByte()
    {
        using var other = redis.Server.Connect();
        var replicaB = new RedisResponseCache(other);
        var key = NewKey();
        var entry = CachedAnswer.Encode("text/event-stream", Encoding.UTF8.GetBytes("data: {\"é\":1}\n\ndata: [DONE]\n\n"));
        Assert.Null(await replicaB.GetAsync(key, CancellationToken.None));
        await _cache.SetAsync(key, entry, TimeSpan.FromMinutes(1));
        Assert.Equal(entry, await replicaB.GetAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task OneStringKeyUnderThePrefix_WithItsTtlInMilliseconds()
    {
        var cache = new RedisResponseCache(redis.Redis, "tenant7");
        var key = NewKey();
        await cache.SetAsync(key, [1, 2, 3], TimeSpan.FromMilliseconds(90_500));
        Assert.Equal("{tenant7}:cache:" + key, cache.KeyOf(key).ToString());
        Assert.Equal(StackExchange.Redis.RedisType.String, await redis.Db.KeyTypeAsync(cache.KeyOf(key)));
        var pttl = (long)await redis.Db.ExecuteAsync("PTTL", cache.KeyOf(key));
        Assert.InRange(pttl, 89_000, 90_500);
    }

    [Fact]
    public async Task Expired_IsGone_AndSetAgainReplaces()
    {
        var key = NewKey();
        await _cache.SetAsync(key, [1], TimeSpan.FromMilliseconds(100));
        Assert.NotNull(await _cache.GetAsync(key, CancellationToken.None));
        await Task.Delay(250);
        Assert.Null(await _cache.GetAsync(key, CancellationToken.None));
        await _cache.SetAsync(key, [2], TimeSpan.FromMinutes(1));
        await _cache.SetAsync(key, [3, 3], TimeSpan.FromMinutes(1));
        Assert.Equal(new byte[] { 3, 3 }, await _cache.GetAsync(key, CancellationToken.None));
    }

    [Fact]
    public async Task DeadRedis_TheStoreThrows_TheStageMissesAndCounts()
    {
        using var dead = Dead();
        var store = new RedisResponseCache(dead);
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.GetAsync(NewKey(), CancellationToken.None));

        var metrics = new GatewayMetrics();
        var stage = new CacheStage(store, TimeSpan.FromMilliseconds(20), metrics, NullLogger.Instance, TimeProvider.System);
        var (took, ticket, outcome, ctx) = await LookupAsync(stage);
        Assert.False(ticket!.Hit);
        Assert.Equal("miss", outcome.CacheResult);
        Assert.Equal("miss", ctx.Response.Headers["x-gateway-cache"].ToString());
        Assert.True(took < TimeSpan.FromMilliseconds(500), $"a dead Redis held the lookup {took.TotalMilliseconds:0} ms");
        Assert.Contains("llm_gateway_cache_store_failures_total{store=\"redis\",operation=\"read\"} 1", await ScrapeAsync(metrics), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FrozenRedis_AMissWithinTheTimeout_ThenHitsWhenItIsBack()
    {
        using var server = RedisServer.Start();
        using var connection = server.Connect();
        var stage = new CacheStage(new RedisResponseCache(connection), TimeSpan.FromMilliseconds(20), new GatewayMetrics(), NullLogger.Instance, TimeProvider.System);

        // A miss, stored after its answer.
        var (_, first, outcome, ctx) = await LookupAsync(stage);
        Assert.False(first!.Hit);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        outcome.UpstreamStatus = 200;
        outcome.CaptureResponse("{\"answer\":42}"u8);
        stage.Complete(ctx, outcome, first);
        await WaitUntilAsync(async () => (await LookupAsync(stage)).Ticket!.Hit);

        server.Freeze();
        try
        {
            var (took, frozen, _, _) = await LookupAsync(stage);
            Assert.False(frozen!.Hit);
            Assert.True(took < TimeSpan.FromMilliseconds(150), $"a frozen Redis held the lookup {took.TotalMilliseconds:0} ms (timeout 20 ms)");
        }
        finally
        {
            server.Thaw();
        }
        await WaitUntilAsync(async () => (await LookupAsync(stage)).Ticket!.Hit);
        var (_, again, hitOutcome, hitCtx) = await LookupAsync(stage);
        Assert.True(again!.Hit);
        Assert.Equal(("hit", "application/json", "{\"answer\":42}"), (hitOutcome.CacheResult, hitCtx.Response.ContentType, Encoding.UTF8.GetString(((MemoryStream)hitCtx.Response.Body).ToArray())));
    }

    private static readonly Route Route = new() { Name = "cached", Targets = [] };

    private static async Task<(TimeSpan Took, CacheStage.Ticket? Ticket, CallOutcome Outcome, DefaultHttpContext Ctx)> LookupAsync(CacheStage stage)
    {
        var ctx = new DefaultHttpContext();
        ctx.Response.Body = new MemoryStream();
        var outcome = new CallOutcome(Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow, 0) { Route = Route };
        var key = new VirtualKey { Id = "k" };
        var body = Encoding.UTF8.GetBytes("""{"model":"cached","messages":[{"role":"user","content":"hi"}]}""");
        var t = Stopwatch.StartNew();
        var ticket = await stage.LookupAsync(ctx, outcome, new RouteCachePolicy(), key, body, stream: false, CancellationToken.None);
        return (t.Elapsed, ticket, outcome, ctx);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the condition did not hold within 10 s");
            await Task.Delay(50);
        }
    }

    private static async Task<string> ScrapeAsync(GatewayMetrics metrics)
    {
        using var output = new MemoryStream();
        await metrics.WriteToAsync(output, openMetrics: false, CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }
}
