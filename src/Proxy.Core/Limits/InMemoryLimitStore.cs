using System.Collections.Concurrent;

namespace Proxy.Limits;

/// <summary>
/// The embedded default: every counter in this process. Also what a remote store falls back to when it fails open,
/// with each limit divided by the replicas that share it (<paramref name="divisor"/>), so the replicas together stay
/// near the limit while they cannot see each other.
/// </summary>
public sealed class InMemoryLimitStore(TimeProvider time, int divisor = 1) : ILimitStore
{
    private readonly ConcurrentDictionary<string, SlidingWindow> _windows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Leases> _leases = new(StringComparer.Ordinal);

    /// <summary>Leases held on one counter.</summary>
    private sealed class Leases
    {
        public readonly Lock Gate = new();
        public long Held;
    }

    /// <summary>A rule's counter in this store, kept on the rule (<see cref="LimitRule.StoreHandle"/>).</summary>
    private sealed class Handle(InMemoryLimitStore owner, object counter)
    {
        public readonly InMemoryLimitStore Owner = owner;
        public readonly object Counter = counter;
    }

    /// <summary>
    /// The rule's counter (a <see cref="SlidingWindow"/> or <see cref="Leases"/>): from the rule's handle when this store
    /// made it, else by name (counters outlive reloads, which make new rules) and kept on the rule. Two stores sharing a
    /// rule (a shared store's local fallback and the default) only ever cost a lookup.
    /// </summary>
    private object CounterOf(LimitRule rule)
    {
        if (rule.StoreHandle is Handle h && h.Owner == this) return h.Counter;
        object counter = rule.Kind == LimitKind.Concurrency
            ? _leases.GetOrAdd(rule.Counter, static _ => new Leases())
            : _windows.GetOrAdd(rule.Counter, static _ => new SlidingWindow());
        rule.StoreHandle = new Handle(this, counter);
        return counter;
    }

    public string Name => "memory";

    [System.Runtime.CompilerServices.InlineArray(9)]
    private struct Held
    {
        private object _first;
    }

    private long Effective(long limit) => divisor <= 1 ? limit : Math.Max(1, limit / divisor);

    public ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct)
    {
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (checks.Length > 9) throw new ArgumentException("at most nine checks: three holders, three kinds", nameof(checks));
        var states = new LimitState[checks.Length];
        bool admitted = true;
        // Decide under every counter's lock at once, so two requests never both take the last unit. Locks are taken in
        // the checks' order, which is always key, team, route and requests, tokens, concurrency: no two requests wait
        // on each other in opposite orders.
        // Up to nine checks (three holders, three kinds): the counters held sit on the stack, not in an array per request.
        var locked = new Held();
        int held = 0;
        try
        {
            for (int i = 0; i < checks.Length; i++)
            {
                var c = checks[i];
                long limit = Effective(c.Limit);
                if (c.Kind == LimitKind.Concurrency)
                {
                    var leases = (Leases)CounterOf(c.Rule);
                    leases.Gate.Enter();
                    locked[held++] = leases;
                    bool fits = leases.Held + c.Cost <= limit;
                    states[i] = new LimitState(limit, Math.Max(0, limit - leases.Held - (fits ? c.Cost : 0)), TimeSpan.Zero, fits, fits ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
                    admitted &= fits || c.Shadow;
                }
                else
                {
                    var window = (SlidingWindow)CounterOf(c.Rule);
                    window.Gate.Enter();
                    locked[held++] = window;
                    window.Advance(nowMs);
                    bool fits = window.Fits(limit, c.Cost);
                    // The reset is read once the request is decided (below): after its take when it is admitted.
                    states[i] = new LimitState(limit, Math.Max(0, limit - window.Sum - (fits ? c.Cost : 0)), TimeSpan.Zero,
                        fits, fits ? TimeSpan.Zero : window.RetryAfter(limit, c.Cost, nowMs));
                    admitted &= fits || c.Shadow;
                }
            }
            for (int i = 0; i < checks.Length; i++)
            {
                if (locked[i] is SlidingWindow window)
                {
                    if (admitted) window.Take(checks[i].Cost);
                    // Whole again when the newest non-empty slot leaves: after a take, the current slot.
                    states[i] = states[i] with { Reset = window.Reset(nowMs) };
                }
                else if (admitted) ((Leases)locked[i]).Held += checks[i].Cost;
            }
        }
        finally
        {
            for (int i = 0; i < held; i++)
            {
                if (locked[i] is SlidingWindow window) window.Gate.Exit();
                else ((Leases)locked[i]).Gate.Exit();
            }
        }
        return new(new LimitDecision(states, nowMs / 1000));
    }

    public ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed)
    {
        long nowMs = 0;
        for (int i = 0; i < checks.Length; i++)
        {
            var c = checks[i];
            if (c.Kind == LimitKind.Concurrency)
            {
                var leases = (Leases)CounterOf(c.Rule);
                lock (leases.Gate) leases.Held = Math.Max(0, leases.Held - c.Cost);
            }
            else if (c.Kind == LimitKind.Tokens && tokensUsed != c.Cost)
            {
                var window = (SlidingWindow)CounterOf(c.Rule);
                if (nowMs == 0) nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
                lock (window.Gate)
                {
                    window.Advance(nowMs);
                    window.Adjust(decision.Window, tokensUsed - c.Cost);
                }
            }
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Leases in one process end with it, so they need no heartbeat.</summary>
    public ValueTask RenewAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl) => ValueTask.CompletedTask;
}
