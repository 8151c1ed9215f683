using Proxy.Core.Tests.Routing;
using Proxy.Limits;

namespace Proxy.Core.Tests.Limits;

/// <summary>The embedded store's decisions on a manual clock: the sliding minute, all-or-nothing, shadow, tokens settled, leases.</summary>
public sealed class InMemoryLimitStoreTests
{
    private static LimitRule Rule(LimitKind kind, long limit, bool shadow = false, string holder = "k1", LimitScope scope = LimitScope.Key) =>
        new(scope, holder, kind, limit, shadow, StoreFailureMode.Open);

    private static async Task<LimitDecision> Admit(ILimitStore store, params LimitCheck[] checks) =>
        await store.AdmitAsync(checks, "lease-" + Guid.NewGuid(), TimeSpan.FromSeconds(30), CancellationToken.None);

    [Fact]
    public async Task Requests_AtMostTheLimitInAMinute_ThenRoomAsTheOldestSecondsLeave()
    {
        var time = new ManualTime();
        var store = new InMemoryLimitStore(time);
        var rpm = Rule(LimitKind.Requests, 10);
        int admitted = 0;
        for (int i = 0; i < 6; i++) if ((await Admit(store, new LimitCheck(rpm, 1))).Admitted([new LimitCheck(rpm, 1)])) admitted++;
        time.Advance(TimeSpan.FromSeconds(30));
        for (int i = 0; i < 6; i++) if ((await Admit(store, new LimitCheck(rpm, 1))).Admitted([new LimitCheck(rpm, 1)])) admitted++;
        Assert.Equal(10, admitted);

        var refused = await Admit(store, new LimitCheck(rpm, 1));
        Assert.False(refused.States[0].Fits);
        Assert.Equal(0, refused.States[0].Remaining);
        // The six of second 0 leave at 60 s: 30 s from now.
        Assert.Equal(TimeSpan.FromSeconds(30), refused.States[0].RetryAfter);
        // The window empties when second 30's requests leave.
        Assert.Equal(TimeSpan.FromSeconds(60), refused.States[0].Reset);

        time.Advance(TimeSpan.FromSeconds(30));
        var again = await Admit(store, new LimitCheck(rpm, 1));
        Assert.True(again.States[0].Fits);
        Assert.Equal(10 - 4 - 1, again.States[0].Remaining);
    }

    [Fact]
    public async Task AllOrNothing_OneFullCounterTakesNothingFromTheOthers()
    {
        var store = new InMemoryLimitStore(new ManualTime());
        var key = Rule(LimitKind.Requests, 100);
        var route = Rule(LimitKind.Requests, 1, scope: LimitScope.Route, holder: "gpt");
        LimitCheck[] checks = [new(key, 1), new(route, 1)];
        Assert.True((await Admit(store, checks)).Admitted(checks));
        var refused = await Admit(store, checks);
        Assert.False(refused.Admitted(checks));
        Assert.True(refused.States[0].Fits);
        Assert.False(refused.States[1].Fits);
        // The key gave nothing to the refused request: 99 left, not 98.
        var keyOnly = await Admit(store, new LimitCheck(key, 1));
        Assert.Equal(98, keyOnly.States[0].Remaining);
    }

    [Fact]
    public async Task Shadow_NeverRefuses_ButCountsAndSaysItDidNotFit()
    {
        var store = new InMemoryLimitStore(new ManualTime());
        var shadow = Rule(LimitKind.Requests, 2, shadow: true);
        LimitCheck[] checks = [new(shadow, 1)];
        var decisions = new List<LimitDecision>();
        for (int i = 0; i < 4; i++) decisions.Add(await Admit(store, checks));
        Assert.All(decisions, d => Assert.True(d.Admitted(checks)));
        Assert.Equal([true, true, false, false], decisions.Select(d => d.States[0].Fits));
    }

    [Fact]
    public async Task Tokens_ReservedThenSettledToWhatTheAnswerUsed()
    {
        var time = new ManualTime();
        var store = new InMemoryLimitStore(time);
        var tpm = Rule(LimitKind.Tokens, 1000);
        LimitCheck[] big = [new(tpm, 800)];
        var first = await Admit(store, big);
        Assert.True(first.Admitted(big));
        Assert.False((await Admit(store, big)).Admitted(big)); // 800 + 800 > 1000
        await store.SettleAsync(big, first, "x", tokensUsed: 100);
        var second = await Admit(store, big);
        Assert.True(second.Admitted(big));
        Assert.Equal(1000 - 100 - 800, second.States[0].Remaining);
        // A settle that grows past the reservation counts the growth too.
        await store.SettleAsync(big, second, "y", tokensUsed: 850);
        Assert.Equal(1000 - 100 - 850 - 1, (await Admit(store, new LimitCheck(tpm, 1))).States[0].Remaining);
    }

    [Fact]
    public async Task Tokens_GrowthSettledAfterItsMinuteLeft_LandsInTheCurrentSecond()
    {
        var time = new ManualTime();
        var store = new InMemoryLimitStore(time);
        var tpm = Rule(LimitKind.Tokens, 1000);
        LimitCheck[] checks = [new(tpm, 100)];
        var d = await Admit(store, checks);
        time.Advance(TimeSpan.FromSeconds(90)); // a long stream
        await store.SettleAsync(checks, d, "x", tokensUsed: 400);
        var probe = await Admit(store, new LimitCheck(tpm, 1));
        Assert.Equal(1000 - 300 - 1, probe.States[0].Remaining);
    }

    [Fact]
    public async Task Tokens_ARequestLargerThanTheLimit_NeverFits_RetryAfterAMinute()
    {
        var store = new InMemoryLimitStore(new ManualTime());
        LimitCheck[] checks = [new(Rule(LimitKind.Tokens, 100), 101)];
        var d = await Admit(store, checks);
        Assert.False(d.Admitted(checks));
        Assert.Equal(TimeSpan.FromSeconds(60), d.States[0].RetryAfter);
    }

    [Fact]
    public async Task Concurrency_LeasesHeldUntilSettled()
    {
        var store = new InMemoryLimitStore(new ManualTime());
        LimitCheck[] checks = [new(Rule(LimitKind.Concurrency, 2), 1)];
        var a = await Admit(store, checks);
        var b = await Admit(store, checks);
        Assert.True(a.Admitted(checks) && b.Admitted(checks));
        Assert.False((await Admit(store, checks)).Admitted(checks));
        await store.SettleAsync(checks, a, "a", 0);
        Assert.True((await Admit(store, checks)).Admitted(checks));
    }

    [Fact]
    public async Task Divisor_EachReplicaAloneGetsItsShare()
    {
        var store = new InMemoryLimitStore(new ManualTime(), divisor: 3);
        LimitCheck[] checks = [new(Rule(LimitKind.Requests, 10), 1)];
        int admitted = 0;
        for (int i = 0; i < 10; i++) if ((await Admit(store, checks)).Admitted(checks)) admitted++;
        Assert.Equal(3, admitted);
    }

    [Fact]
    public async Task ManyThreads_NeverMoreThanTheLimit()
    {
        var store = new InMemoryLimitStore(TimeProvider.System);
        LimitCheck[] checks = [new(Rule(LimitKind.Requests, 600), 1), new(Rule(LimitKind.Requests, 100_000, holder: "r", scope: LimitScope.Route), 1)];
        int admitted = 0;
        await Parallel.ForAsync(0, 2000, async (_, _) =>
        {
            if ((await Admit(store, checks)).Admitted(checks)) Interlocked.Increment(ref admitted);
        });
        Assert.Equal(600, admitted);
    }
}
