using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Proxy.Errors;
using Proxy.Keys;
using Proxy.Limits;
using Proxy.Metrics;
using Proxy.Pipeline;

namespace Proxy.Budgets;

/// <summary>
/// The budgets stage of the request path, right after the limits stage: the key's and its team's budgets read in one
/// store call, a 429 <c>budget_exceeded</c> when either is spent (or the 503 of a budget that fails closed when the
/// store cannot answer), and after the answer the request's cost charged to both without making it wait. Keys
/// without a budget pay one branch.
/// </summary>
public sealed class BudgetsStage(IBudgetStore store, GatewayMetrics metrics, ILogger logger)
{
    public IBudgetStore Store => store;

    /// <summary>The embedded default on the system clock: for tests and benchmarks that build the pipeline by hand.</summary>
    public static BudgetsStage InMemory(GatewayMetrics metrics) =>
        new(new InMemoryBudgetStore(TimeProvider.System), metrics, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    /// <summary>The budgets a request of <paramref name="key"/> is held to (its own, then its team's), or null when none.</summary>
    public static BudgetRule[]? RulesFor(VirtualKey key) => key.Budgets.Length == 0 ? null : key.Budgets;

    /// <summary>What each budget has spent, for <c>GET /v1/usage</c>; throws <see cref="BudgetStoreException"/> when the store fails.</summary>
    public async ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct)
    {
        var reading = await store.ReadAsync(rules, ct).ConfigureAwait(false);
        for (int i = 0; i < rules.Length; i++) metrics.BudgetSeen(rules[i], reading.States[i].SpentNanoUsd);
        return reading;
    }

    /// <summary>
    /// Admits the request when none of its budgets is spent; otherwise writes the 429 (or the 503) in the client's shape
    /// and returns false.
    /// </summary>
    public async ValueTask<bool> AdmitAsync(HttpContext ctx, Accounting.CallOutcome outcome, BudgetRule[] rules, CancellationToken ct)
    {
        BudgetReading reading;
        try
        {
            reading = await ReadAsync(rules, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            bool closed = false;
            foreach (var r in rules) closed |= r.OnStoreFailure == StoreFailureMode.Closed;
            metrics.BudgetStoreFailed(store.Name, closed);
            Log.BudgetStoreFailed(logger, store.Name, e.Message, closed);
            if (!closed) return true;
            metrics.Reject(RejectReason.BudgetsUnavailable);
            ctx.Response.Headers.RetryAfter = "1";
            outcome.ErrorClass = OpenAiError.Upstream;
            outcome.LimitedBy = "budget_store";
            await ErrorResponses.WriteAsync(ctx, 503,
                "The gateway's budget store did not answer in time and this request's budget fails closed; try again shortly.",
                OpenAiError.Upstream, code: "budgets_unavailable", api: outcome.Api).ConfigureAwait(false);
            return false;
        }

        // Every spent budget must be whole again before a request may start: the latest reset is the one to give.
        int worst = -1;
        for (int i = 0; i < rules.Length; i++)
        {
            if (reading.States[i].SpentNanoUsd < rules[i].LimitNanoUsd) continue;
            if (worst < 0 || reading.States[i].ResetsAt > reading.States[worst].ResetsAt) worst = i;
        }
        if (worst < 0) return true;

        var spent = reading.States[worst];
        var rule = rules[worst];
        var wait = spent.ResetsAt - reading.Now;
        long seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
        metrics.Reject(RejectReason.BudgetExceeded);
        ctx.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        outcome.ErrorClass = OpenAiError.RateLimit;
        outcome.LimitedBy = rule.Counter;
        await ErrorResponses.WriteAsync(ctx, 429, RefusalMessage(rule, spent), OpenAiError.RateLimit, code: "budget_exceeded", api: outcome.Api).ConfigureAwait(false);
        return false;
    }

    /// <summary>"Budget exceeded for key 'team-a': spent $50.0012 of $50 this month; it resets at 2027-01-01T00:00:00Z." Never the key itself.</summary>
    public static string RefusalMessage(BudgetRule rule, BudgetState state)
    {
        var resets = state.ResetsAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var when = rule.Period.Kind == BudgetPeriodKind.Rolling
            ? $"in the last {rule.Period.Name} (a rolling window); the oldest hour of spend leaves it at {resets}"
            : $"this {rule.Period.Name} (UTC); it resets at {resets}";
        return string.Create(CultureInfo.InvariantCulture,
            $"Budget exceeded for {rule.ScopeText} '{rule.Holder}': spent ${BudgetRule.Usd(state.SpentNanoUsd)} of ${BudgetRule.Usd(rule.LimitNanoUsd)} {when}.");
    }

    /// <summary>
    /// After the answer: charges the request's cost to every budget it is held to, off the request's path. Never
    /// throws; a charge the store does not take is logged and counted.
    /// </summary>
    public void Charge(BudgetRule[] rules, long nanoUsd)
    {
        if (nanoUsd <= 0) return;
        _ = ChargeAsync(rules, nanoUsd);
    }

    /// <summary><see cref="Charge"/>, awaitable (tests); never throws.</summary>
    public async Task ChargeAsync(BudgetRule[] rules, long nanoUsd)
    {
        try
        {
            var reading = await store.ChargeAsync(rules, nanoUsd, CancellationToken.None).ConfigureAwait(false);
            for (int i = 0; i < rules.Length; i++)
            {
                var rule = rules[i];
                long after = reading.States[i].SpentNanoUsd, before = after - nanoUsd;
                metrics.BudgetSeen(rule, after);
                for (int t = 0; t < rule.ThresholdNanoUsd.Length; t++)
                {
                    long at = rule.ThresholdNanoUsd[t];
                    if (before >= at || after < at) continue;
                    metrics.BudgetThresholdCrossed(rule, t);
                    Log.BudgetThresholdCrossed(logger, rule.ScopeText, rule.Holder, rule.ThresholdLabels[t], BudgetRule.Usd(after), BudgetRule.Usd(rule.LimitNanoUsd), rule.Period.Name);
                }
            }
        }
        catch (Exception e)
        {
            try
            {
                metrics.BudgetChargeFailed(store.Name);
                Log.BudgetChargeFailed(logger, store.Name, nanoUsd, string.Join(", ", rules.Select(r => r.Counter)), e.Message);
            }
            catch (Exception)
            {
                // Logging a lost charge must not turn the charge into a throw either.
            }
        }
    }
}
