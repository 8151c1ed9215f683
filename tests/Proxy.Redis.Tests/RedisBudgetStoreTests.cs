using System.Diagnostics;
using Proxy.Budgets;
using Proxy.Limits;
using StackExchange.Redis;

namespace Proxy.Redis.Tests;

/// <summary>
/// The Redis budget store against a real redis-server: charges exact under concurrency from several connections, periods
/// on Redis's clock named by their start, counters that expire past their period, rolling windows summed from hourly
/// buckets, and failures that come out as exceptions (the guard turns them into the fail mode).
/// </summary>
public sealed class RedisBudgetStoreTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisBudgetStore _store = new(redis.Redis);

    private static BudgetRule Rule(BudgetPeriod period, BudgetScope scope = BudgetScope.Key, long limit = 1_000_000_000) =>
        new(scope, "b-" + Guid.NewGuid().ToString("N")[..12], limit, period, [], StoreFailureMode.Closed);

    [Fact]
    public async Task A_thousand_concurrent_charges_from_four_connections_sum_exactly()
    {
        var key = Rule(BudgetPeriod.Month);
        var team = Rule(BudgetPeriod.Rolling(24), BudgetScope.Team);
        var muxes = Enumerable.Range(0, 3).Select(_ => redis.Server.Connect()).Append(redis.Redis).ToArray();
        try
        {
            var stores = muxes.Select(m => new RedisBudgetStore(m)).ToArray();
            var amounts = Enumerable.Range(1, 1000).Select(i => 987_654L * i + 3).ToArray();
            await Task.WhenAll(amounts.Select((a, i) => Task.Run(async () => await stores[i % stores.Length].ChargeAsync([key, team], a, CancellationToken.None))));
            var read = await _store.ReadAsync([key, team], CancellationToken.None);
            Assert.Equal([amounts.Sum(), amounts.Sum()], read.States.Select(s => s.SpentNanoUsd));
        }
        finally
        {
            foreach (var m in muxes.Take(3)) m.Dispose();
        }
    }

    [Fact]
    public async Task Counters_are_named_by_the_period_start_on_Redis_clock_and_expire_past_its_end()
    {
        var month = Rule(BudgetPeriod.Month);
        var day = Rule(BudgetPeriod.Day, BudgetScope.Team);
        var before = await redis.TimeAsync();
        var charged = await _store.ChargeAsync([month, day], 1_234_567, CancellationToken.None);
        var after = await redis.TimeAsync();
        Assert.InRange(charged.Now, before.AddMilliseconds(-1), after.AddMilliseconds(1));
        long sec = charged.Now.ToUnixTimeSeconds();

        var (mStart, mReset) = BudgetPeriod.Month.Bounds(sec);
        var (dStart, dReset) = BudgetPeriod.Day.Bounds(sec);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(mReset), charged.States[0].ResetsAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(dReset), charged.States[1].ResetsAt);
        var mKey = $"{{llmgw}}:budget:key:{month.Holder}:m:{mStart}";
        var dKey = $"{{llmgw}}:budget:team:{day.Holder}:d:{dStart}";
        Assert.Equal(_store.KeyOf(month).ToString() + ":" + mStart, mKey);
        Assert.Equal(1_234_567, (long)await redis.Db.StringGetAsync(mKey));
        Assert.Equal(1_234_567, (long)await redis.Db.StringGetAsync(dKey));
        var mTtl = (await redis.Db.KeyTimeToLiveAsync(mKey))!.Value.TotalSeconds;
        var dTtl = (await redis.Db.KeyTimeToLiveAsync(dKey))!.Value.TotalSeconds;
        Assert.InRange(mTtl, mReset + 3600 - sec - 5, mReset + 3600 - sec);
        Assert.InRange(dTtl, dReset + 3600 - sec - 5, dReset + 3600 - sec);
    }

    [Fact]
    public async Task Month_bounds_in_Lua_match_the_calendar_for_every_month_of_several_years()
    {
        // The script computes the month from Redis's TIME; here the same arithmetic is checked against .NET's calendar by
        // running it on given seconds (EVAL of the script's prelude, then its local sec set to each).
        const string check = """
            local out = {}
            for i = 1, #ARGV do
              sec = tonumber(ARGV[i])
              local s, r = bounds(1)
              out[#out + 1] = s
              out[#out + 1] = r
            end
            return out
            """;
        var script = BudgetScripts.Read.Split("local out = { nowMs }")[0] + check;
        var probes = new List<long>();
        for (var m = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero); m.Year < 2031; m = m.AddMonths(1))
            probes.AddRange([m.ToUnixTimeSeconds(), m.AddDays(14).AddHours(7).ToUnixTimeSeconds(), m.AddMonths(1).ToUnixTimeSeconds() - 1]);
        var answer = (long[])(await redis.Db.ScriptEvaluateAsync(script, Array.Empty<RedisKey>(), probes.Select(p => (RedisValue)p).ToArray()))!;
        for (int i = 0; i < probes.Count; i++)
            Assert.Equal(BudgetPeriod.Month.Bounds(probes[i]), (answer[2 * i], answer[2 * i + 1]));
    }

    [Fact]
    public async Task Rolling_windows_sum_the_hourly_buckets_still_in_them()
    {
        var rule = Rule(BudgetPeriod.Rolling(3));
        long sec = await RedisTimeAwayFromAnHourBoundaryAsync();
        long hour = sec - sec % 3600;
        string Bucket(long start) => $"{_store.KeyOf(rule)}:{start}";
        await redis.Db.StringSetAsync(Bucket(hour - 3 * 3600), 1000, TimeSpan.FromMinutes(5)); // left the window
        await redis.Db.StringSetAsync(Bucket(hour - 2 * 3600), 200, TimeSpan.FromMinutes(5));  // its oldest hour
        await redis.Db.StringSetAsync(Bucket(hour - 3600), 30, TimeSpan.FromMinutes(5));
        var read = await _store.ReadAsync([rule], CancellationToken.None);
        Assert.Equal(230, read.States[0].SpentNanoUsd);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(hour + 3600), read.States[0].ResetsAt);
        var charged = await _store.ChargeAsync([rule], 4, CancellationToken.None);
        Assert.Equal(234, charged.States[0].SpentNanoUsd);
        Assert.Equal(4, (long)await redis.Db.StringGetAsync(Bucket(hour)));
        var ttl = (await redis.Db.KeyTimeToLiveAsync(Bucket(hour)))!.Value.TotalSeconds;
        Assert.InRange(ttl, hour + 4 * 3600 - sec - 5, hour + 4 * 3600 - sec); // leaves the window 3 h after its start; an hour's margin
    }

    [Fact]
    public async Task Two_replicas_share_a_budget_and_reads_write_nothing()
    {
        using var other = redis.Server.Connect();
        var b = new RedisBudgetStore(other);
        var rule = Rule(BudgetPeriod.Day);
        var nothing = await b.ReadAsync([rule], CancellationToken.None);
        Assert.Equal(0, nothing.States[0].SpentNanoUsd);
        Assert.Empty(redis.Admin.Keys(pattern: $"*{rule.Holder}*"));
        await _store.ChargeAsync([rule], 5, CancellationToken.None);
        await b.ChargeAsync([rule], 6, CancellationToken.None);
        Assert.Equal(11, (await _store.ReadAsync([rule], CancellationToken.None)).States[0].SpentNanoUsd);
    }

    [Fact]
    public async Task A_dead_Redis_fails_the_store_and_the_guard_answers_within_its_timeout()
    {
        using var dead = RedisTestSupport.Dead();
        var store = new RedisBudgetStore(dead);
        var rule = Rule(BudgetPeriod.Month);
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.ReadAsync([rule], CancellationToken.None));
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.ChargeAsync([rule], 1, CancellationToken.None));

        var guarded = new GuardedBudgetStore(store, TimeSpan.FromMilliseconds(20), TimeProvider.System);
        var t = Stopwatch.StartNew();
        await Assert.ThrowsAsync<BudgetStoreException>(async () => await guarded.ReadAsync([rule], CancellationToken.None));
        Assert.True(t.ElapsedMilliseconds < 500, $"{t.ElapsedMilliseconds} ms");
    }

    /// <summary>Redis's current second, waiting while it is within 10 s of an hour's end, so seeded buckets stay put.</summary>
    private async Task<long> RedisTimeAwayFromAnHourBoundaryAsync()
    {
        while (true)
        {
            long sec = (await redis.TimeAsync()).ToUnixTimeSeconds();
            if (sec % 3600 < 3590) return sec;
            await Task.Delay(TimeSpan.FromSeconds(3600 - sec % 3600 + 1));
        }
    }
}
