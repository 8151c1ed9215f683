using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Proxy.Accounting;
using Proxy.Budgets;
using Proxy.Core.Tests.Routing;
using Proxy.Limits;
using Proxy.Metrics;

namespace Proxy.Core.Tests.Budgets;

/// <summary>
/// The budgets stage on its own: admitted below the budget, a 429 budget_exceeded naming whose budget and when it
/// resets once spent, soft thresholds crossed once each, the fail modes of a failing store, and lost charges counted.
/// </summary>
public sealed class BudgetsStageTests
{
    private static BudgetRule Rule(long limit, double[]? thresholds = null, StoreFailureMode mode = StoreFailureMode.Closed, BudgetScope scope = BudgetScope.Key, string holder = "team-a") =>
        new(scope, holder, limit, BudgetPeriod.Month, thresholds ?? [], mode);

    private static string Scrape(GatewayMetrics metrics)
    {
        using var buffer = new MemoryStream();
        metrics.WriteToAsync(buffer, openMetrics: false, CancellationToken.None).GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static async Task<(bool Admitted, DefaultHttpContext Ctx, CallOutcome Outcome, JsonElement? Error)> AdmitAsync(BudgetsStage stage, BudgetRule[] rules)
    {
        var ctx = new DefaultHttpContext();
        var body = new MemoryStream();
        ctx.Response.Body = body;
        var outcome = new CallOutcome(0, DateTimeOffset.UtcNow, 1024);
        bool admitted = await stage.AdmitAsync(ctx, outcome, rules, CancellationToken.None);
        await ctx.Response.BodyWriter.FlushAsync();
        JsonElement? error = body.Length == 0 ? null : JsonDocument.Parse(body.ToArray()).RootElement.GetProperty("error");
        return (admitted, ctx, outcome, error);
    }

    [Fact]
    public async Task SpentBudget_429BudgetExceeded_NamingWhoseAndWhen_RetryAfterToTheReset()
    {
        var time = new ManualTime(); // 2026-01-02T00:00:00Z
        var metrics = new GatewayMetrics();
        var stage = new BudgetsStage(new InMemoryBudgetStore(time), metrics, NullLogger.Instance);
        var key = Rule(1_000_000);
        var team = Rule(5_000_000_000, scope: BudgetScope.Team, holder: "acme");
        Assert.True((await AdmitAsync(stage, [key, team])).Admitted);
        await stage.ChargeAsync([key, team], 999_999);
        Assert.True((await AdmitAsync(stage, [key, team])).Admitted); // one nano-USD left
        await stage.ChargeAsync([key, team], 2);

        var (admitted, ctx, outcome, error) = await AdmitAsync(stage, [key, team]);
        Assert.False(admitted);
        Assert.Equal(429, ctx.Response.StatusCode);
        Assert.Equal(((long)TimeSpan.FromDays(30).TotalSeconds).ToString(), ctx.Response.Headers.RetryAfter.ToString()); // to 2026-02-01
        Assert.Equal("budget_exceeded", error!.Value.GetProperty("code").GetString());
        Assert.Equal("rate_limit_error", error.Value.GetProperty("type").GetString());
        Assert.Equal("Budget exceeded for key 'team-a': spent $0.001000001 of $0.001 this month (UTC); it resets at 2026-02-01T00:00:00Z.",
            error.Value.GetProperty("message").GetString());
        Assert.Equal(("budget:key:team-a:m", "rate_limit_error"), (outcome.LimitedBy, outcome.ErrorClass));
        var scrape = Scrape(metrics);
        Assert.Contains("llm_gateway_requests_rejected_total{reason=\"budget_exceeded\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_budget_spent_usd{scope=\"key\",holder=\"team-a\"} 0.001000001", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_budget_limit_usd{scope=\"team\",holder=\"acme\"} 5", scrape, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromDays(30)); // February: whole again
        Assert.True((await AdmitAsync(stage, [key, team])).Admitted);
    }

    [Fact]
    public async Task RollingWindow_RefusalSaysWhenTheOldestHourLeaves()
    {
        var time = new ManualTime();
        time.Advance(TimeSpan.FromMinutes(15));
        var stage = new BudgetsStage(new InMemoryBudgetStore(time), new GatewayMetrics(), NullLogger.Instance);
        var rule = new BudgetRule(BudgetScope.Team, "acme", 100, BudgetPeriod.Rolling(24), [], StoreFailureMode.Closed);
        await stage.ChargeAsync([rule], 100);
        var (admitted, ctx, _, error) = await AdmitAsync(stage, [rule]);
        Assert.False(admitted);
        Assert.Equal("2700", ctx.Response.Headers.RetryAfter.ToString());
        Assert.Contains("team 'acme'", error!.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("in the last 1d (a rolling window)", error.Value.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SoftThresholds_EachCrossedOnce_ByTheChargeThatReachesIt()
    {
        var metrics = new GatewayMetrics();
        var stage = new BudgetsStage(new InMemoryBudgetStore(new ManualTime()), metrics, NullLogger.Instance);
        var rule = Rule(1000, [0.5, 0.8]);
        await stage.ChargeAsync([rule], 499); // below both
        Assert.DoesNotContain("llm_gateway_budget_thresholds_crossed_total{", Scrape(metrics), StringComparison.Ordinal);
        await stage.ChargeAsync([rule], 1); // exactly 500: at 0.5
        await stage.ChargeAsync([rule], 100);
        await stage.ChargeAsync([rule], 400); // 1000: over 0.8
        await stage.ChargeAsync([rule], 400); // past both already
        var scrape = Scrape(metrics);
        Assert.Contains("llm_gateway_budget_thresholds_crossed_total{scope=\"key\",holder=\"team-a\",threshold=\"0.5\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_budget_thresholds_crossed_total{scope=\"key\",holder=\"team-a\",threshold=\"0.8\"} 1", scrape, StringComparison.Ordinal);
        var line = scrape.Split('\n').Single(l => l.StartsWith("llm_gateway_budget_spent_usd{scope=\"key\",holder=\"team-a\"} ", StringComparison.Ordinal));
        Assert.Equal(1.4e-6, double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ConcurrentCharges_CrossAThresholdExactlyOnce()
    {
        var metrics = new GatewayMetrics();
        var stage = new BudgetsStage(new InMemoryBudgetStore(new ManualTime()), metrics, NullLogger.Instance);
        var rule = Rule(1_000_000, [0.5]);
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, _) => await stage.ChargeAsync([rule], 997));
        Assert.Contains("threshold=\"0.5\"} 1\n", Scrape(metrics), StringComparison.Ordinal);
        Assert.Equal(997_000, (await stage.ReadAsync([rule], default)).States[0].SpentNanoUsd);
    }

    private sealed class FailingStore : IBudgetStore
    {
        public string Name => "redis";

        public ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct) => throw new BudgetStoreException("no answer within 20ms");

        public ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct) =>
            ValueTask.FromException<BudgetReading>(new BudgetStoreException("connection refused"));
    }

    [Fact]
    public async Task StoreFailure_ClosedRefuses503_OpenAdmits_LostChargesCounted()
    {
        var metrics = new GatewayMetrics();
        var stage = new BudgetsStage(new FailingStore(), metrics, NullLogger.Instance);
        var closed = await AdmitAsync(stage, [Rule(100)]);
        Assert.False(closed.Admitted);
        Assert.Equal((503, "1"), (closed.Ctx.Response.StatusCode, closed.Ctx.Response.Headers.RetryAfter.ToString()));
        Assert.Equal("budgets_unavailable", closed.Error!.Value.GetProperty("code").GetString());
        Assert.True((await AdmitAsync(stage, [Rule(100, mode: StoreFailureMode.Open)])).Admitted);
        // One rule that fails closed is enough to refuse.
        Assert.False((await AdmitAsync(stage, [Rule(100, mode: StoreFailureMode.Open), Rule(100, scope: BudgetScope.Team, holder: "acme")])).Admitted);

        stage.Charge([Rule(100)], 5); // fire and forget: never throws
        await stage.ChargeAsync([Rule(100)], 5);
        var scrape = Scrape(metrics);
        Assert.Contains("llm_gateway_budget_charge_failures_total{store=\"redis\"} 2", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_budget_store_failures_total{store=\"redis\",mode=\"closed\"} 2", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_budget_store_failures_total{store=\"redis\",mode=\"open\"} 1", scrape, StringComparison.Ordinal);
        Assert.Contains("llm_gateway_requests_rejected_total{reason=\"budgets_unavailable\"} 2", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GuardedStore_TimesOutReads_ThenOpensItsBreaker()
    {
        var never = new TaskCompletionSource<BudgetReading>();
        var slow = new SlowStore(never.Task);
        var guarded = new GuardedBudgetStore(slow, TimeSpan.FromMilliseconds(20), TimeProvider.System);
        var rule = Rule(100);
        for (int i = 0; i < GuardedBudgetStore.FailuresToOpen; i++)
        {
            var e = await Assert.ThrowsAsync<BudgetStoreException>(async () => await guarded.ReadAsync([rule], default));
            Assert.Equal("no answer within 20ms", e.Message);
        }
        Assert.True(guarded.BreakerOpen);
        int calls = slow.Calls;
        Assert.Equal("breaker open", (await Assert.ThrowsAsync<BudgetStoreException>(async () => await guarded.ReadAsync([rule], default))).Message);
        Assert.Equal(calls, slow.Calls); // the store was skipped
        Assert.Equal(TimeSpan.FromSeconds(1), guarded.ChargeTimeout);
    }

    private sealed class SlowStore(Task<BudgetReading> answer) : IBudgetStore
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string Name => "redis";

        public ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            return new(answer);
        }

        public ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct) => new(answer);
    }
}
