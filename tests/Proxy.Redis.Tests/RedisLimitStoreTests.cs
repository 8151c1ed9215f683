using Proxy.Limits;
using StackExchange.Redis;
using static Proxy.Redis.Tests.RedisTestSupport;

namespace Proxy.Redis.Tests;

/// <summary>The Redis store's own guarantees: atomic under load, shared by replicas, on Redis's clock, its key layout.</summary>
public sealed class RedisLimitStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisLimitStore _store = new(redis.Redis);

    [Fact]
    public async Task Of_a_thousand_concurrent_admits_exactly_the_limit_get_in()
    {
        var rpm = Rule(LimitKind.Requests, 600);
        // Four connections (as four replicas would have) and many tasks.
        var muxes = Enumerable.Range(0, 3).Select(_ => redis.Server.Connect()).Append(redis.Redis).ToArray();
        try
        {
            var stores = muxes.Select(m => new RedisLimitStore(m)).ToArray();
            var admits = Enumerable.Range(0, 1000).Select(i => Task.Run(async () =>
                (await stores[i % stores.Length].Admit(rpm)).States[0].Fits));
            var results = await Task.WhenAll(admits);
            Assert.Equal(600, results.Count(fit => fit));
            Assert.Equal(0, (await _store.Admit(rpm, 0)).States[0].Remaining);
        }
        finally
        {
            foreach (var m in muxes.Take(3)) m.Dispose();
        }
    }

    [Fact]
    public async Task Two_replicas_with_their_own_connections_share_counters()
    {
        using var other = redis.Server.Connect();
        var a = _store;
        var b = new RedisLimitStore(other);
        var rpm = Rule(LimitKind.Requests, 5);
        for (int i = 0; i < 3; i++) Assert.True((await a.Admit(rpm)).States[0].Fits);
        for (int i = 0; i < 2; i++) Assert.True((await b.Admit(rpm)).States[0].Fits);
        Assert.False((await a.Admit(rpm)).States[0].Fits);
        Assert.False((await b.Admit(rpm)).States[0].Fits);

        // A lease taken on one replica and released by the other (a request settled wherever it ends).
        var conc = Rule(LimitKind.Concurrency, 1);
        var d = await a.Admit(conc, lease: "lease-1");
        Assert.False((await b.Admit(conc)).States[0].Fits);
        await b.SettleAsync([new LimitCheck(conc, 1)], d, "lease-1", 0);
        await other.GetDatabase().PingAsync(); // settles are sent, not awaited: Redis answers this after running it
        Assert.True((await a.Admit(conc)).States[0].Fits);
    }

    [Fact]
    public async Task Keys_are_one_hash_tag_windows_are_hashes_with_an_expiry_and_leases_a_sorted_set()
    {
        var rpm = Rule(LimitKind.Requests, 10);
        var conc = Rule(LimitKind.Concurrency, 10);
        LimitCheck[] checks = [new(rpm, 2), new(conc, 1)];
        var d = await _store.AdmitAsync(checks, "lease-a", TimeSpan.FromSeconds(20), CancellationToken.None);

        var window = (RedisKey)("{llmgw}:" + rpm.Counter);
        Assert.Equal(window, _store.KeyOf(rpm.Counter));
        var fields = (await redis.Db.HashGetAllAsync(window)).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        Assert.Equal(new Dictionary<string, long> { ["sum"] = 2, ["newest"] = d.Window, [d.Window.ToString(System.Globalization.CultureInfo.InvariantCulture)] = 2 }, fields);
        Assert.InRange((await redis.Db.KeyTimeToLiveAsync(window))!.Value, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(61));

        var leases = (RedisKey)("{llmgw}:" + conc.Counter);
        var expiry = await redis.Db.SortedSetScoreAsync(leases, "lease-a");
        var now = (await redis.TimeAsync()).ToUnixTimeMilliseconds();
        Assert.InRange(expiry!.Value - now, 19_000, 20_000);
        Assert.InRange((await redis.Db.KeyTimeToLiveAsync(leases))!.Value, TimeSpan.FromSeconds(19), TimeSpan.FromSeconds(20));

        // Another prefix, another tag.
        var other = new RedisLimitStore(redis.Redis, "gw2");
        await other.Admit(rpm);
        Assert.Equal(1, (long)await redis.Db.HashGetAsync("{gw2}:" + rpm.Counter, "sum"));
        Assert.Equal(2, (long)await redis.Db.HashGetAsync(window, "sum"));
    }

    [Fact]
    public async Task Decisions_are_on_Redis_clock()
    {
        var rpm = Rule(LimitKind.Requests, 10);
        var before = (await redis.TimeAsync()).ToUnixTimeMilliseconds();
        var d = await _store.Admit(rpm);
        var after = (await redis.TimeAsync()).ToUnixTimeMilliseconds();

        // The slot is the second of Redis's TIME, and the reset is when that slot leaves (60 s after it began),
        // measured from the script's own reading of TIME.
        Assert.InRange(d.Window, before / 1000, after / 1000);
        var reset = (long)d.States[0].Reset.TotalMilliseconds;
        Assert.InRange(reset, (d.Window + 60) * 1000 - after, (d.Window + 60) * 1000 - before);
        Assert.InRange(d.States[0].Reset, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task The_scripts_survive_SCRIPT_FLUSH()
    {
        var tpm = Rule(LimitKind.Tokens, 100);
        var conc = Rule(LimitKind.Concurrency, 5);
        LimitCheck[] checks = [new(tpm, 10), new(conc, 1)];
        await _store.AdmitAsync(checks, "l1", LongTtl, CancellationToken.None);

        await redis.Admin.ScriptFlushAsync();
        var d = await _store.AdmitAsync(checks, "l2", LongTtl, CancellationToken.None);
        Assert.Equal(80, d.States[0].Remaining);

        await redis.Admin.ScriptFlushAsync();
        Assert.Equal(1, await _store.RenewCountAsync(checks, "l2", LongTtl));
        await redis.Admin.ScriptFlushAsync();
        var failures = new List<Exception>();
        var store = new RedisLimitStore(redis.Redis, onSettleFailure: failures.Add);
        await store.SettleAsync(checks, d, "l2", 0);
        Assert.Empty(failures);
        Assert.Equal(90, (await _store.Admit(tpm, 0)).States[0].Remaining);
        Assert.Equal(4, (await _store.Admit(conc, 0)).States[0].Remaining);
    }

    [Fact]
    public async Task A_cancelled_admit_throws_and_a_settle_on_a_dead_connection_does_not()
    {
        var rpm = Rule(LimitKind.Requests, 10);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            await _store.AdmitAsync([new LimitCheck(rpm, 1)], "l", LongTtl, new CancellationToken(canceled: true)));

        using var dead = Dead();
        var failures = new List<Exception>();
        var store = new RedisLimitStore(dead, onSettleFailure: e =>
        {
            failures.Add(e);
            throw new InvalidOperationException("a broken observer");
        });
        var tpm = Rule(LimitKind.Tokens, 100);
        LimitCheck[] checks = [new(tpm, 10), new(Rule(LimitKind.Concurrency, 1), 1)];
        // Sent without waiting for an answer: on a dead connection it is dropped, and nothing throws.
        await store.SettleAsync(checks, new LimitDecision([default, default], 1), "l", 3);
        Assert.All(failures, f => Assert.True(f is RedisException or TimeoutException, f.ToString()));

        // Admit lets the failure out, for the wrapper's fail-open/closed.
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await store.AdmitAsync(checks, "l", LongTtl, CancellationToken.None));
        Assert.True(e is RedisException or TimeoutException, e.ToString());
    }
}
