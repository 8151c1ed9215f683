using System.Globalization;
using Proxy.Limits;

namespace Proxy.Budgets;

/// <summary>Whose budget it is: the calling key, or the key's team.</summary>
public enum BudgetScope : byte
{
    Key,
    Team,
}

/// <summary>How a budget's period runs: a UTC calendar day or month, or a rolling window of whole hours.</summary>
public enum BudgetPeriodKind : byte
{
    Day,
    Month,
    Rolling,
}

/// <summary>
/// A budget's period. Day and month are UTC calendar periods that reset at the next boundary; a rolling window of
/// <see cref="Hours"/> hours is counted in one-hour buckets and holds what the last <see cref="Hours"/> buckets hold
/// (the current one included), so spend leaves it an hour at a time.
/// </summary>
public readonly record struct BudgetPeriod(BudgetPeriodKind Kind, int Hours)
{
    public const int MaxRollingHours = 31 * 24;

    public static BudgetPeriod Day => new(BudgetPeriodKind.Day, 0);
    public static BudgetPeriod Month => new(BudgetPeriodKind.Month, 0);

    public static BudgetPeriod Rolling(int hours) => new(BudgetPeriodKind.Rolling, hours);

    /// <summary>As the config writes it: <c>day</c>, <c>month</c>, <c>7d</c> (whole days), <c>36h</c>.</summary>
    public string Name => Kind switch
    {
        BudgetPeriodKind.Day => "day",
        BudgetPeriodKind.Month => "month",
        _ => Hours % 24 == 0 ? (Hours / 24).ToString(CultureInfo.InvariantCulture) + "d" : Hours.ToString(CultureInfo.InvariantCulture) + "h",
    };

    /// <summary>
    /// The tag that keeps different kinds of period apart in a store's counter names (<c>d</c>, <c>m</c>, <c>h</c>):
    /// rolling windows of any length share one set of hourly buckets.
    /// </summary>
    public string Tag => Kind switch
    {
        BudgetPeriodKind.Day => "d",
        BudgetPeriodKind.Month => "m",
        _ => "h",
    };

    /// <summary>
    /// The counter (bucket) that a charge at <paramref name="nowSec"/> (Unix seconds, the store's clock) lands in, named by
    /// its start, and when the budget is next whole again: the next day or month boundary, or for a rolling window the
    /// end of the current hour, when the oldest bucket leaves the window (an approximation: what leaves then may not be
    /// enough). Mirrored in Lua by the Redis store.
    /// </summary>
    public (long Start, long Reset) Bounds(long nowSec)
    {
        switch (Kind)
        {
            case BudgetPeriodKind.Day:
                long day = nowSec - Mod(nowSec, 86_400);
                return (day, day + 86_400);
            case BudgetPeriodKind.Month:
                var now = DateTimeOffset.FromUnixTimeSeconds(nowSec);
                var start = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
                return (start.ToUnixTimeSeconds(), start.AddMonths(1).ToUnixTimeSeconds());
            default:
                long hour = nowSec - Mod(nowSec, 3600);
                return (hour, hour + 3600);
        }
    }

    /// <summary>How long a counter of this period must live after its start: past the period's end (an hour's margin).</summary>
    public long KeepSeconds(long start, long reset) => Kind == BudgetPeriodKind.Rolling ? Hours * 3600L + 3600 : reset - start + 3600;

    private static long Mod(long a, long b) => ((a % b) + b) % b;
}

/// <summary>
/// One configured budget of one holder (a key or a team), made once per config load: its limit in nano-USD (the unit of
/// the request record's <c>CostNanoUsd</c>, so sums are exact), its period, and its soft thresholds.
/// </summary>
public sealed class BudgetRule
{
    /// <summary>The largest budget: $1,000,000, so every sum stays exact in Redis's Lua numbers (below 2^53 nano-USD).</summary>
    public const double MaxUsd = 1_000_000;

    public BudgetRule(BudgetScope scope, string holder, long limitNanoUsd, BudgetPeriod period, double[] softThresholds, StoreFailureMode onStoreFailure)
    {
        Scope = scope;
        Holder = holder;
        LimitNanoUsd = limitNanoUsd;
        Period = period;
        SoftThresholds = softThresholds;
        ThresholdNanoUsd = [.. softThresholds.Select(t => (long)Math.Ceiling((decimal)t * limitNanoUsd))];
        ThresholdLabels = [.. softThresholds.Select(t => t.ToString("0.####", CultureInfo.InvariantCulture))];
        OnStoreFailure = onStoreFailure;
        Counter = $"budget:{ScopeName(scope)}:{holder}:{period.Tag}";
    }

    public BudgetScope Scope { get; }
    public string Holder { get; }
    public long LimitNanoUsd { get; }
    public BudgetPeriod Period { get; }

    /// <summary>Fractions of the limit (0.8 = 80 %), ascending: crossing one is a metric and a log line, never a refusal.</summary>
    public double[] SoftThresholds { get; }

    /// <summary>Each soft threshold in nano-USD (rounded up): a charge crosses it when it takes spent from below to at or over.</summary>
    public long[] ThresholdNanoUsd { get; }

    /// <summary>Each soft threshold as the metric's <c>threshold</c> label: <c>0.8</c>.</summary>
    public string[] ThresholdLabels { get; }

    public StoreFailureMode OnStoreFailure { get; }

    /// <summary>
    /// The counter's name in a store, stable across replicas and reloads, without the period's start:
    /// <c>budget:key:team-a:m</c> (a store appends <c>:&lt;start&gt;</c>, the period's start in Unix seconds).
    /// </summary>
    public string Counter { get; }

    public string ScopeText => ScopeName(Scope);

    public static string ScopeName(BudgetScope scope) => scope == BudgetScope.Key ? "key" : "team";

    /// <summary>USD from nano-USD, exactly (9 decimals at most).</summary>
    public static decimal Usd(long nanoUsd) => nanoUsd / 1_000_000_000m;
}

/// <summary>One budget as a store read it: what the current period (or rolling window) holds, and when it is whole again.</summary>
public readonly record struct BudgetState(long SpentNanoUsd, DateTimeOffset ResetsAt);

/// <summary>A store's answer for a request's budgets: one state per rule, in the rules' order, and the store's clock.</summary>
public sealed class BudgetReading(BudgetState[] states, DateTimeOffset now)
{
    public BudgetState[] States { get; } = states;

    /// <summary>The store's own clock when it answered (Redis's TIME, or the in-memory store's TimeProvider).</summary>
    public DateTimeOffset Now { get; } = now;
}
