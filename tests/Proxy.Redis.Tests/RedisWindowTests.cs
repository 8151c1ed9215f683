using System.Globalization;
using Proxy.Limits;
using StackExchange.Redis;
using static Proxy.Redis.Tests.RedisTestSupport;

namespace Proxy.Redis.Tests;

/// <summary>
/// The window's passage of time on Redis's clock, which a test cannot move: the hash is seeded with slots from
/// seconds ago (relative to Redis's TIME) and the script must treat them as SlidingWindow would.
/// </summary>
public sealed class RedisWindowTests(RedisFixture redis) : IClassFixture<RedisFixture>
{
    private readonly RedisLimitStore _store = new(redis.Redis);

    private static string F(long slot) => slot.ToString(CultureInfo.InvariantCulture);

    private async Task<RedisKey> Seed(LimitRule rule, long newest, params (long Slot, long Count)[] slots)
    {
        var key = _store.KeyOf(rule.Counter);
        var entries = slots.Select(s => new HashEntry(F(s.Slot), s.Count))
            .Append(new HashEntry("sum", slots.Sum(s => s.Count)))
            .Append(new HashEntry("newest", newest)).ToArray();
        await redis.Db.HashSetAsync(key, entries);
        await redis.Db.KeyExpireAsync(key, TimeSpan.FromSeconds(61));
        return key;
    }

    private async Task<Dictionary<string, long>> Fields(RedisKey key) =>
        (await redis.Db.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (long)e.Value);

    [Fact]
    public async Task Slots_older_than_sixty_seconds_leave_the_window_and_the_hash()
    {
        var now = await redis.EarlyInASecondAsync();
        var rpm = Rule(LimitKind.Requests, 10);
        var key = await Seed(rpm, now - 10, (now - 65, 3), (now - 30, 4));

        var d = await _store.Admit(rpm);
        Assert.Equal(now, d.Window);
        Assert.True(d.States[0].Fits);
        Assert.Equal(5, d.States[0].Remaining); // 10 - 4 - 1: the 3 of now-65 left
        Assert.Equal(new Dictionary<string, long> { [F(now - 30)] = 4, [F(now)] = 1, ["sum"] = 5, ["newest"] = now }, await Fields(key));
    }

    [Fact]
    public async Task A_window_idle_for_a_minute_starts_over()
    {
        var now = await redis.EarlyInASecondAsync();
        var rpm = Rule(LimitKind.Requests, 10);
        var key = await Seed(rpm, now - 60, (now - 60, 9), (now - 100, 1));

        var d = await _store.Admit(rpm);
        Assert.Equal(9, d.States[0].Remaining);
        Assert.Equal(new Dictionary<string, long> { [F(now)] = 1, ["sum"] = 1, ["newest"] = now }, await Fields(key));
    }

    [Fact]
    public async Task Retry_after_is_when_enough_of_the_oldest_slots_leave_and_reset_when_the_newest_does()
    {
        var now = await redis.EarlyInASecondAsync();
        var rpm = Rule(LimitKind.Requests, 5);
        await Seed(rpm, now - 1, (now - 59, 2), (now - 58, 1), (now - 1, 2));

        var before = (await redis.TimeAsync()).ToUnixTimeMilliseconds();
        var d = await _store.Admit(rpm, cost: 2);
        var after = (await redis.TimeAsync()).ToUnixTimeMilliseconds();
        Assert.False(d.States[0].Fits);
        // 5 + 2 - 5 = 2 over: the 2 of now-59 are enough, and they leave at the end of this second.
        Assert.InRange((long)d.States[0].RetryAfter.TotalMilliseconds, (now + 1) * 1000 - after, (now + 1) * 1000 - before);
        // Whole again when the newest slot, now-1, leaves: 59 s on.
        Assert.InRange((long)d.States[0].Reset.TotalMilliseconds, (now + 59) * 1000 - after, (now + 59) * 1000 - before);

        var cost3 = await _store.Admit(rpm, cost: 3); // 3 over: now-59 and now-58 must both leave
        Assert.InRange((long)cost3.States[0].RetryAfter.TotalMilliseconds, (now + 2) * 1000 - after - 1000, (now + 2) * 1000 - before);
        Assert.True(cost3.States[0].RetryAfter > d.States[0].RetryAfter);

        await Task.Delay(d.States[0].RetryAfter + TimeSpan.FromMilliseconds(50));
        Assert.True((await _store.Admit(rpm, cost: 2)).States[0].Fits);
    }

    [Fact]
    public async Task Settling_in_a_slot_still_in_the_window_corrects_it()
    {
        var now = await redis.EarlyInASecondAsync();
        var tpm = Rule(LimitKind.Tokens, 1000);
        var key = await Seed(tpm, now - 1, (now - 30, 500), (now - 1, 100));
        LimitCheck[] checks = [new(tpm, 500)];

        await _store.SettleAsync(checks, new LimitDecision([default], now - 30), "l", tokensUsed: 200);
        var fields = await Fields(key);
        Assert.Equal(200, fields[F(now - 30)]);
        Assert.Equal(300, fields["sum"]);

        // Down past what the slot holds: clamped, and the emptied slot's field removed.
        await _store.SettleAsync(checks, new LimitDecision([default], now - 30), "l", tokensUsed: 0);
        fields = await Fields(key);
        Assert.False(fields.ContainsKey(F(now - 30)));
        Assert.Equal(100, fields["sum"]);
    }

    [Fact]
    public async Task Settling_after_the_reserved_slot_left_counts_only_growth_in_the_current_slot()
    {
        var now = await redis.EarlyInASecondAsync();
        var tpm = Rule(LimitKind.Tokens, 1000);
        var key = await Seed(tpm, now - 1, (now - 1, 100));
        LimitCheck[] checks = [new(tpm, 500)];
        var old = new LimitDecision([default], now - 61);

        await _store.SettleAsync(checks, old, "l", tokensUsed: 100);
        Assert.Equal(100, (await Fields(key))["sum"]);

        await _store.SettleAsync(checks, old, "l", tokensUsed: 900);
        var fields = await Fields(key);
        Assert.Equal(500, fields["sum"]);
        var slot = fields["newest"];
        Assert.InRange(slot, now, now + 1);
        Assert.Equal(400, fields[F(slot)]);
        Assert.InRange((await redis.Db.KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(61));
    }

    [Fact]
    public async Task A_refusal_on_a_missing_counter_writes_no_key()
    {
        var tpm = Rule(LimitKind.Tokens, 10);
        var d = await _store.Admit(tpm, cost: 11);
        Assert.False(d.States[0].Fits);
        Assert.False(await redis.Db.KeyExistsAsync(_store.KeyOf(tpm.Counter)));
    }
}
