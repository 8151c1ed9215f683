using Proxy.Limits;
using static Proxy.Redis.Tests.RedisTestSupport;

namespace Proxy.Redis.Tests;

/// <summary>Concurrency leases on Redis's clock: they expire unless renewed, so a dead replica's leases free up.</summary>
public sealed class RedisLeaseTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(1);

    private readonly RedisLimitStore _store = new(redis.Redis);

    [Fact]
    public async Task Leases_of_a_replica_that_died_expire_without_a_settle()
    {
        var conc = Rule(LimitKind.Concurrency, 10);
        using (var replica = redis.Server.Connect())
        {
            var dying = new RedisLimitStore(replica);
            for (int i = 0; i < 10; i++) Assert.True((await dying.Admit(conc, ttl: Short)).States[0].Fits);
        }

        var refused = await _store.Admit(conc);
        Assert.False(refused.States[0].Fits);
        // The earliest lease runs out within the second: the retry-after says when.
        Assert.InRange(refused.States[0].RetryAfter, TimeSpan.FromMilliseconds(1), Short);

        await Task.Delay(Short + TimeSpan.FromMilliseconds(200));
        var admitted = await _store.Admit(conc);
        Assert.True(admitted.States[0].Fits);
        Assert.Equal(9, admitted.States[0].Remaining);
    }

    [Fact]
    public async Task Renewed_leases_outlive_their_first_ttl_and_lapse_when_renewing_stops()
    {
        // 1.5 s leases with a heartbeat every 250 ms (the gateway beats every lease/3): slack for a busy 2-core machine.
        var ttl = TimeSpan.FromSeconds(1.5);
        var conc = Rule(LimitKind.Concurrency, 3);
        LimitCheck[] checks = [new(conc, 1)];
        var leases = Enumerable.Range(0, 3).Select(_ => NewLease()).ToArray();
        foreach (var lease in leases) Assert.True((await _store.Admit(conc, lease: lease, ttl: ttl)).States[0].Fits);

        var until = DateTime.UtcNow + 2 * ttl;
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            var renewed = await Task.WhenAll(leases.Select(lease => _store.RenewCountAsync(checks, lease, ttl).AsTask()));
            Assert.All(renewed, n => Assert.Equal(1, n));
        }
        Assert.False((await _store.Admit(conc)).States[0].Fits);

        await Task.Delay(ttl + TimeSpan.FromMilliseconds(200));
        Assert.True((await _store.Admit(conc, ttl: ttl)).States[0].Fits); // prunes the lapsed leases
        Assert.Equal(0, await _store.RenewCountAsync(checks, leases[0], ttl)); // and a lapsed lease is not brought back
    }

    [Fact]
    public async Task A_lease_costing_two_holds_two_places_and_settles_both()
    {
        var conc = Rule(LimitKind.Concurrency, 3);
        LimitCheck[] two = [new(conc, 2)];
        var d = await _store.AdmitAsync(two, "big", LongTtl, CancellationToken.None);
        Assert.True(d.States[0].Fits);
        Assert.Equal(1, d.States[0].Remaining);
        Assert.False((await _store.AdmitAsync(two, "other", LongTtl, CancellationToken.None)).States[0].Fits);
        Assert.Equal(2, await _store.RenewCountAsync(two, "big", LongTtl));

        await _store.SettleAsync(two, d, "big", 0);
        Assert.Equal(3, (await _store.Admit(conc, 0)).States[0].Remaining);
    }
}
