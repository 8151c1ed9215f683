using Proxy.Budgets;
using Proxy.Core.Tests.Routing;
using Proxy.Limits;

namespace Proxy.Core.Tests.Budgets;

/// <summary>The embedded budget store on a manual clock: calendar periods reset at their UTC boundary, rolling windows hour by hour, sums exact.</summary>
public sealed class InMemoryBudgetStoreTests
{
    private static BudgetRule Rule(BudgetPeriod period, long limit = 1_000_000_000, string holder = "k", BudgetScope scope = BudgetScope.Key) =>
        new(scope, holder, limit, period, [], StoreFailureMode.Closed);

    private static async Task<long> Spent(IBudgetStore store, BudgetRule rule) => (await store.ReadAsync([rule], default)).States[0].SpentNanoUsd;

    [Fact]
    public async Task Day_ResetsAtUtcMidnight()
    {
        var time = new ManualTime(); // 2026-01-02T00:00:00Z
        var store = new InMemoryBudgetStore(time);
        var rule = Rule(BudgetPeriod.Day);
        time.Advance(TimeSpan.FromHours(23));
        var charged = await store.ChargeAsync([rule], 700, default);
        Assert.Equal(700, charged.States[0].SpentNanoUsd);
        Assert.Equal(DateTimeOffset.Parse("2026-01-03T00:00:00Z"), charged.States[0].ResetsAt);
        Assert.Equal(time.GetUtcNow(), charged.Now);
        time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(59));
        Assert.Equal(700, await Spent(store, rule));
        time.Advance(TimeSpan.FromSeconds(1));
        var next = await store.ReadAsync([rule], default);
        Assert.Equal(0, next.States[0].SpentNanoUsd);
        Assert.Equal(DateTimeOffset.Parse("2026-01-04T00:00:00Z"), next.States[0].ResetsAt);
    }

    [Fact]
    public async Task Month_ResetsOnTheFirstOfTheNextMonth()
    {
        var time = new ManualTime();
        var store = new InMemoryBudgetStore(time);
        var rule = Rule(BudgetPeriod.Month);
        await store.ChargeAsync([rule], 5, default);
        time.Advance(TimeSpan.FromDays(29) + TimeSpan.FromHours(23)); // 2026-01-31T23:00
        var late = await store.ChargeAsync([rule], 6, default);
        Assert.Equal((11L, DateTimeOffset.Parse("2026-02-01T00:00:00Z")), (late.States[0].SpentNanoUsd, late.States[0].ResetsAt));
        time.Advance(TimeSpan.FromHours(1)); // February
        var feb = await store.ReadAsync([rule], default);
        Assert.Equal((0L, DateTimeOffset.Parse("2026-03-01T00:00:00Z")), (feb.States[0].SpentNanoUsd, feb.States[0].ResetsAt));
        time.Advance(TimeSpan.FromDays(28)); // March 1st: February has 28 days in 2026
        Assert.Equal(DateTimeOffset.Parse("2026-04-01T00:00:00Z"), (await store.ReadAsync([rule], default)).States[0].ResetsAt);
    }

    [Fact]
    public void Bounds_MonthAcrossTheYearAndALeapFebruary()
    {
        long Sec(string s) => DateTimeOffset.Parse(s).ToUnixTimeSeconds();
        Assert.Equal((Sec("2026-12-01T00:00:00Z"), Sec("2027-01-01T00:00:00Z")), BudgetPeriod.Month.Bounds(Sec("2026-12-31T23:59:59Z")));
        Assert.Equal((Sec("2028-02-01T00:00:00Z"), Sec("2028-03-01T00:00:00Z")), BudgetPeriod.Month.Bounds(Sec("2028-02-29T12:00:00Z")));
        Assert.Equal((Sec("2026-03-05T00:00:00Z"), Sec("2026-03-06T00:00:00Z")), BudgetPeriod.Day.Bounds(Sec("2026-03-05T13:14:15Z")));
        Assert.Equal((Sec("2026-03-05T13:00:00Z"), Sec("2026-03-05T14:00:00Z")), BudgetPeriod.Rolling(24).Bounds(Sec("2026-03-05T13:14:15Z")));
    }

    [Fact]
    public async Task Rolling_SpendLeavesHourByHour()
    {
        var time = new ManualTime();
        var store = new InMemoryBudgetStore(time);
        var rule = Rule(BudgetPeriod.Rolling(3));
        time.Advance(TimeSpan.FromMinutes(30)); // 00:30
        await store.ChargeAsync([rule], 100, default);
        time.Advance(TimeSpan.FromHours(1)); // 01:30
        await store.ChargeAsync([rule], 20, default);
        time.Advance(TimeSpan.FromHours(1)); // 02:30
        var at = await store.ChargeAsync([rule], 3, default);
        Assert.Equal(123, at.States[0].SpentNanoUsd);
        Assert.Equal(DateTimeOffset.Parse("2026-01-02T03:00:00Z"), at.States[0].ResetsAt); // the 00:00 bucket leaves then
        time.Advance(TimeSpan.FromMinutes(30)); // 03:00: the 00:00 bucket is out
        Assert.Equal(23, await Spent(store, rule));
        time.Advance(TimeSpan.FromHours(1)); // 04:00
        Assert.Equal(3, await Spent(store, rule));
        time.Advance(TimeSpan.FromHours(1)); // 05:00
        Assert.Equal(0, await Spent(store, rule));
    }

    [Fact]
    public async Task OneCallChargesEveryBudget_HoldersApart()
    {
        var time = new ManualTime();
        var store = new InMemoryBudgetStore(time);
        var key = Rule(BudgetPeriod.Month, holder: "k");
        var team = Rule(BudgetPeriod.Day, holder: "acme", scope: BudgetScope.Team);
        var other = Rule(BudgetPeriod.Month, holder: "other");
        await store.ChargeAsync([key, team], 10, default);
        await store.ChargeAsync([other, team], 1, default);
        var read = await store.ReadAsync([key, team, other], default);
        Assert.Equal([10L, 11L, 1L], read.States.Select(s => s.SpentNanoUsd));
    }

    [Fact]
    public async Task ThousandConcurrentCharges_SumExactly()
    {
        var store = new InMemoryBudgetStore(new ManualTime());
        var key = Rule(BudgetPeriod.Month);
        var team = Rule(BudgetPeriod.Rolling(24), holder: "acme", scope: BudgetScope.Team);
        long expected = 0;
        var amounts = Enumerable.Range(1, 1000).Select(i => 123_457L * i + 7).ToArray();
        foreach (var a in amounts) expected += a;
        await Parallel.ForEachAsync(amounts, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (a, ct) => await store.ChargeAsync([key, team], a, ct));
        var read = await store.ReadAsync([key, team], default);
        Assert.Equal([expected, expected], read.States.Select(s => s.SpentNanoUsd));
    }
}
