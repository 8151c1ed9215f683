using System.Collections.Concurrent;

namespace Proxy.Budgets;

/// <summary>
/// The embedded default: every budget's counters in this process, on <paramref name="time"/>. Each holder's counters
/// (one per period start, or per hour for rolling windows) sit under one lock, so a charge and the total it answers
/// are one step; counters whose period is over are dropped as the holder is next touched.
/// </summary>
public sealed class InMemoryBudgetStore(TimeProvider time) : IBudgetStore
{
    private readonly ConcurrentDictionary<string, Holder> _holders = new(StringComparer.Ordinal);

    public string Name => "memory";

    public ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct) => new(Apply(rules, 0));

    public ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nanoUsd);
        return new(Apply(rules, nanoUsd));
    }

    private BudgetReading Apply(BudgetRule[] rules, long charge)
    {
        var now = time.GetUtcNow();
        long sec = now.ToUnixTimeSeconds();
        var states = new BudgetState[rules.Length];
        for (int i = 0; i < rules.Length; i++)
        {
            var rule = rules[i];
            var (start, reset) = rule.Period.Bounds(sec);
            var holder = _holders.GetOrAdd(rule.Counter, static _ => new Holder());
            long spent;
            lock (holder)
            {
                holder.Prune(sec);
                if (charge > 0)
                {
                    ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(holder.Counters, start, out _);
                    slot = new Counter(checked(slot.Amount + charge), Math.Max(slot.ExpiresAt, start + rule.Period.KeepSeconds(start, reset)));
                }
                spent = holder.Sum(rule.Period, start);
            }
            states[i] = new BudgetState(spent, DateTimeOffset.FromUnixTimeSeconds(reset));
        }
        return new BudgetReading(states, now);
    }

    private readonly record struct Counter(long Amount, long ExpiresAt);

    private sealed class Holder
    {
        public Dictionary<long, Counter> Counters { get; } = [];

        public void Prune(long nowSec)
        {
            if (Counters.Count == 0) return;
            foreach (var (start, c) in Counters)
                if (c.ExpiresAt <= nowSec) Counters.Remove(start);
        }

        /// <summary>The current period's counter; for a rolling window the last <c>Hours</c> hourly buckets.</summary>
        public long Sum(BudgetPeriod period, long start)
        {
            if (period.Kind != BudgetPeriodKind.Rolling) return Counters.TryGetValue(start, out var c) ? c.Amount : 0;
            long oldest = start - (period.Hours - 1) * 3600L, sum = 0;
            foreach (var (bucket, counter) in Counters)
                if (bucket >= oldest && bucket <= start) sum += counter.Amount;
            return sum;
        }
    }
}
