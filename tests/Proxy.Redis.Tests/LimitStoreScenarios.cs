using Proxy.Limits;

namespace Proxy.Redis.Tests;

/// <summary>
/// What every limits store must do, run against each (<see cref="InMemoryScenarios"/>, <see cref="RedisScenarios"/>).
/// Only scenarios whose answers hold at any moment on a real clock are here: the Redis store reads Redis's clock,
/// which a test cannot move, so the in-memory ones that step time are in <see cref="InMemoryScenarios"/> (and the
/// Redis equivalents seed old slots in <see cref="RedisWindowTests"/>).
/// </summary>
public abstract class LimitStoreScenarios
{
    protected static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(30);

    protected abstract ILimitStore Store { get; }

    /// <summary>A rule on a counter no other test touches (the Redis tests share a server).</summary>
    protected static LimitRule Rule(LimitKind kind, long limit, bool shadow = false, string? holder = null) =>
        new(LimitScope.Key, holder ?? "t-" + Guid.NewGuid().ToString("N")[..12], kind, limit, shadow, StoreFailureMode.Open);

    protected Task<LimitDecision> Admit(string lease, params LimitCheck[] checks) =>
        Store.AdmitAsync(checks, lease, LeaseTtl, CancellationToken.None).AsTask();

    protected Task<LimitDecision> Admit(params LimitCheck[] checks) => Admit(NewLease(), checks);

    /// <summary>What is left of a window, read with a cost-0 admit (which takes nothing).</summary>
    protected async Task<long> Left(LimitRule rule) => (await Admit(new LimitCheck(rule, 0))).States[0].Remaining;

    protected static string NewLease() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Requests_are_refused_past_the_limit_and_a_refusal_takes_nothing()
    {
        var rpm = Rule(LimitKind.Requests, 3);
        for (long left = 2; left >= 0; left--)
        {
            var d = await Admit(new LimitCheck(rpm, 1));
            var s = d.States[0];
            Assert.True(d.Admitted([new LimitCheck(rpm, 1)]));
            Assert.True(s.Fits);
            Assert.Equal(3, s.Limit);
            Assert.Equal(left, s.Remaining);
            Assert.Equal(TimeSpan.Zero, s.RetryAfter);
            Assert.InRange(s.Reset, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60));
        }
        for (int i = 0; i < 2; i++)
        {
            var refused = await Admit(new LimitCheck(rpm, 1));
            var s = refused.States[0];
            Assert.False(refused.Admitted([new LimitCheck(rpm, 1)]));
            Assert.False(s.Fits);
            Assert.Equal(0, s.Remaining);
            Assert.InRange(s.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60));
            Assert.InRange(s.Reset, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60));
        }
    }

    [Fact]
    public async Task A_fresh_counter_is_whole_and_a_cost_above_the_limit_waits_a_minute()
    {
        var tpm = Rule(LimitKind.Tokens, 100);
        var peek = (await Admit(new LimitCheck(tpm, 0))).States[0];
        Assert.Equal(100, peek.Remaining);
        Assert.Equal(TimeSpan.Zero, peek.Reset);

        var d = await Admit(new LimitCheck(tpm, 101));
        Assert.False(d.States[0].Fits);
        Assert.Equal(TimeSpan.FromSeconds(60), d.States[0].RetryAfter);
        Assert.Equal(100, d.States[0].Remaining);
        Assert.Equal(TimeSpan.Zero, d.States[0].Reset);
    }

    [Fact]
    public async Task All_or_nothing_one_full_check_takes_nothing_from_the_others()
    {
        var rpm = Rule(LimitKind.Requests, 5);
        var tpm = Rule(LimitKind.Tokens, 100);
        var conc = Rule(LimitKind.Concurrency, 2);
        Assert.True((await Admit(new LimitCheck(tpm, 90))).States[0].Fits);

        LimitCheck[] checks = [new(rpm, 1), new(tpm, 20), new(conc, 1)];
        var d = await Store.AdmitAsync(checks, NewLease(), LeaseTtl, CancellationToken.None);
        Assert.False(d.Admitted(checks));
        Assert.True(d.States[0].Fits);
        Assert.False(d.States[1].Fits);
        Assert.True(d.States[2].Fits);

        Assert.Equal(5, await Left(rpm));
        Assert.Equal(10, await Left(tpm));
        // Both leases are still free.
        Assert.True((await Admit(new LimitCheck(conc, 1))).States[0].Fits);
        Assert.True((await Admit(new LimitCheck(conc, 1))).States[0].Fits);
        Assert.False((await Admit(new LimitCheck(conc, 1))).States[0].Fits);
    }

    [Fact]
    public async Task A_shadow_check_never_refuses_but_counts()
    {
        var holder = "t-" + Guid.NewGuid().ToString("N")[..12];
        var shadow = Rule(LimitKind.Requests, 1, shadow: true, holder: holder);
        var enforced = Rule(LimitKind.Tokens, 1000);
        for (int i = 1; i <= 3; i++)
        {
            LimitCheck[] checks = [new(shadow, 1), new(enforced, 10)];
            var d = await Store.AdmitAsync(checks, NewLease(), LeaseTtl, CancellationToken.None);
            Assert.True(d.Admitted(checks));
            Assert.Equal(i == 1, d.States[0].Fits);
            Assert.Equal(1000 - 10 * i, d.States[1].Remaining);
        }
        // The same counter enforced (a shadow limit made real): the three shadowed requests were counted.
        var real = Rule(LimitKind.Requests, 10, holder: holder);
        Assert.Equal(real.Counter, shadow.Counter);
        Assert.Equal(7, await Left(real));
    }

    [Fact]
    public async Task Tokens_reserve_then_settle_down_and_up()
    {
        var tpm = Rule(LimitKind.Tokens, 1000);
        LimitCheck[] reserve = [new(tpm, 500)];
        var d = await Store.AdmitAsync(reserve, NewLease(), LeaseTtl, CancellationToken.None);
        Assert.Equal(500, d.States[0].Remaining);
        await Store.SettleAsync(reserve, d, "x", tokensUsed: 200);
        Assert.Equal(800, await Left(tpm));

        LimitCheck[] second = [new(tpm, 100)];
        var d2 = await Store.AdmitAsync(second, NewLease(), LeaseTtl, CancellationToken.None);
        Assert.Equal(700, d2.States[0].Remaining);
        await Store.SettleAsync(second, d2, "y", tokensUsed: 400);
        Assert.Equal(400, await Left(tpm));
    }

    [Fact]
    public async Task Settling_down_never_goes_below_zero()
    {
        var tpm = Rule(LimitKind.Tokens, 1000);
        LimitCheck[] reserve = [new(tpm, 100)];
        var d = await Store.AdmitAsync(reserve, NewLease(), LeaseTtl, CancellationToken.None);
        await Store.SettleAsync(reserve, d, "x", tokensUsed: 0);
        await Store.SettleAsync(reserve, d, "x", tokensUsed: 0); // a duplicate settle: clamped at an empty slot
        Assert.Equal(1000, await Left(tpm));
        var full = await Admit(new LimitCheck(tpm, 1000));
        Assert.True(full.States[0].Fits);
        Assert.Equal(0, full.States[0].Remaining);
    }

    [Fact]
    public async Task Request_counts_are_not_settled()
    {
        var rpm = Rule(LimitKind.Requests, 10);
        LimitCheck[] checks = [new(rpm, 1)];
        var d = await Store.AdmitAsync(checks, NewLease(), LeaseTtl, CancellationToken.None);
        await Store.SettleAsync(checks, d, "x", tokensUsed: 5000);
        Assert.Equal(9, await Left(rpm));
    }

    [Fact]
    public async Task Concurrency_ten_leases_held_refuse_the_eleventh_until_one_is_settled()
    {
        var conc = Rule(LimitKind.Concurrency, 10);
        var leases = new List<(string Lease, LimitDecision Decision)>();
        for (int i = 0; i < 10; i++)
        {
            var lease = NewLease();
            var d = await Admit(lease, new LimitCheck(conc, 1));
            Assert.True(d.States[0].Fits);
            Assert.Equal(9 - i, d.States[0].Remaining);
            Assert.Equal(TimeSpan.Zero, d.States[0].Reset);
            leases.Add((lease, d));
        }
        var refused = await Admit(new LimitCheck(conc, 1));
        Assert.False(refused.States[0].Fits);
        Assert.Equal(0, refused.States[0].Remaining);
        Assert.InRange(refused.States[0].RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));

        await Store.SettleAsync([new LimitCheck(conc, 1)], leases[3].Decision, leases[3].Lease, 0);
        var admitted = await Admit(new LimitCheck(conc, 1));
        Assert.True(admitted.States[0].Fits);
        Assert.Equal(0, admitted.States[0].Remaining);
        Assert.False((await Admit(new LimitCheck(conc, 1))).States[0].Fits);
    }

    [Fact]
    public async Task Renewing_keeps_the_leases_held()
    {
        var conc = Rule(LimitKind.Concurrency, 1);
        var lease = NewLease();
        LimitCheck[] checks = [new(conc, 1)];
        Assert.True((await Admit(lease, checks)).States[0].Fits);
        await Store.RenewAsync(checks, lease, LeaseTtl);
        Assert.False((await Admit(checks)).States[0].Fits);
    }
}
