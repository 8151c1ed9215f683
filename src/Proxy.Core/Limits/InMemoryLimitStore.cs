using System.Runtime.CompilerServices;
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
    private readonly ConcurrentDictionary<string, StrongBox<long>> _leases = new(StringComparer.Ordinal);

    public string Name => "memory";

    private long Effective(long limit) => divisor <= 1 ? limit : Math.Max(1, limit / divisor);

    public ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct)
    {
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var states = new LimitState[checks.Length];
        bool admitted = true;
        // Decide under every counter's lock at once, so two requests never both take the last unit. Locks are taken in
        // the checks' order, which is always key, team, route and requests, tokens, concurrency: no two requests wait
        // on each other in opposite orders.
        var locked = new object[checks.Length];
        int held = 0;
        try
        {
            for (int i = 0; i < checks.Length; i++)
            {
                var c = checks[i];
                long limit = Effective(c.Limit);
                if (c.Kind == LimitKind.Concurrency)
                {
                    var box = _leases.GetOrAdd(c.Counter, static _ => new StrongBox<long>());
                    Monitor.Enter(locked[held++] = box);
                    bool fits = box.Value + c.Cost <= limit;
                    states[i] = new LimitState(limit, Math.Max(0, limit - box.Value - (fits ? c.Cost : 0)), TimeSpan.Zero, fits, fits ? TimeSpan.Zero : TimeSpan.FromSeconds(1));
                    admitted &= fits || c.Shadow;
                }
                else
                {
                    var window = _windows.GetOrAdd(c.Counter, static _ => new SlidingWindow());
                    Monitor.Enter(locked[held++] = window);
                    window.Advance(nowMs);
                    bool fits = window.Fits(limit, c.Cost);
                    states[i] = new LimitState(limit, Math.Max(0, limit - window.Sum - (fits ? c.Cost : 0)), window.Reset(nowMs),
                        fits, fits ? TimeSpan.Zero : window.RetryAfter(limit, c.Cost, nowMs));
                    admitted &= fits || c.Shadow;
                }
            }
            if (admitted)
            {
                for (int i = 0; i < checks.Length; i++)
                {
                    if (locked[i] is SlidingWindow window)
                    {
                        window.Take(checks[i].Cost);
                        // Whole again when the newest non-empty slot leaves: after a take that is the current slot,
                        // later than a reset read before it whenever the window's newest take was in an earlier slot.
                        states[i] = states[i] with { Reset = window.Reset(nowMs) };
                    }
                    else ((StrongBox<long>)locked[i]).Value += checks[i].Cost;
                }
            }
        }
        finally
        {
            for (int i = 0; i < held; i++) Monitor.Exit(locked[i]);
        }
        return new(new LimitDecision(states, nowMs / 1000));
    }

    public ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed)
    {
        long nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (int i = 0; i < checks.Length; i++)
        {
            var c = checks[i];
            if (c.Kind == LimitKind.Concurrency)
            {
                if (_leases.TryGetValue(c.Counter, out var box))
                    lock (box) box.Value = Math.Max(0, box.Value - c.Cost);
            }
            else if (c.Kind == LimitKind.Tokens && tokensUsed != c.Cost && _windows.TryGetValue(c.Counter, out var window))
            {
                lock (window)
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
