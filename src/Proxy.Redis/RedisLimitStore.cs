using Proxy.Limits;
using StackExchange.Redis;

namespace Proxy.Redis;

/// <summary>
/// The limits store shared by every replica: each counter is a Redis key <c>{prefix}:counter</c> (one hash tag, so in
/// a Redis Cluster all counters sit in one slot and one script can touch all of a request's counters). Each call is one
/// round trip running one script from <see cref="LimitScripts"/> on Redis's own clock. No timeout, breaker or fallback
/// here: the caller wraps the store with those, so <see cref="AdmitAsync"/> and <see cref="RenewAsync"/> let failures out.
/// </summary>
public sealed class RedisLimitStore : ILimitStore
{
    public const string DefaultPrefix = "llmgw";

    private const int Window = 0;
    private const int Concurrency = 1;

    private readonly IDatabase _db;
    private readonly string _keyPrefix;
    private readonly Action<Exception>? _onSettleFailure;

    /// <param name="db">The database the counters live in.</param>
    /// <param name="prefix">The hash tag every key starts with (<c>{llmgw}:</c> by default).</param>
    /// <param name="onSettleFailure">Told (to count or log) when a settle could not even be sent (settles are not awaited, so one Redis drops is not seen here); settling never throws.</param>
    public RedisLimitStore(IDatabase db, string prefix = DefaultPrefix, Action<Exception>? onSettleFailure = null)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _db = db;
        _keyPrefix = "{" + prefix + "}:";
        _onSettleFailure = onSettleFailure;
    }

    public RedisLimitStore(IConnectionMultiplexer redis, string prefix = DefaultPrefix, Action<Exception>? onSettleFailure = null)
        : this(redis.GetDatabase(), prefix, onSettleFailure)
    {
    }

    public string Name => "redis";

    /// <summary>The Redis key of a counter, e.g. <c>{llmgw}:key:team-a:rpm</c>.</summary>
    public RedisKey KeyOf(string counter) => _keyPrefix + counter;

    public async ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct)
    {
        var keys = new RedisKey[checks.Length];
        var args = new RedisValue[2 + 4 * checks.Length];
        args[0] = leaseId;
        args[1] = TtlMs(leaseTtl);
        for (int i = 0; i < checks.Length; i++)
        {
            var c = checks[i];
            keys[i] = KeyOf(c.Counter);
            int j = 2 + 4 * i;
            args[j] = c.Kind == LimitKind.Concurrency ? Concurrency : Window;
            args[j + 1] = c.Limit;
            args[j + 2] = Math.Max(0, c.Cost);
            args[j + 3] = c.Shadow ? 1 : 0;
        }

        var pending = _db.ScriptEvaluateAsync(LimitScripts.Admit, keys, args);
        var result = ct.CanBeCanceled ? await pending.WaitAsync(ct) : await pending;
        var answer = (long[]?)result ?? throw new InvalidOperationException("the limits script returned nothing");
        if (answer.Length != 1 + 4 * checks.Length)
            throw new InvalidOperationException($"the limits script returned {answer.Length} numbers for {checks.Length} checks");

        var states = new LimitState[checks.Length];
        for (int i = 0; i < checks.Length; i++)
        {
            int j = 1 + 4 * i;
            states[i] = new LimitState(checks[i].Limit, answer[j + 1], TimeSpan.FromMilliseconds(answer[j + 2]),
                answer[j] == 1, TimeSpan.FromMilliseconds(answer[j + 3]));
        }
        return new LimitDecision(states, answer[0]);
    }

    public async ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed)
    {
        try
        {
            // Only what changes: token reservations that were off, and leases. A request-count check has nothing to settle.
            int n = 0;
            foreach (var c in checks)
                if (c.Kind == LimitKind.Concurrency || (c.Kind == LimitKind.Tokens && tokensUsed != c.Cost)) n++;
            if (n == 0) return;

            var keys = new RedisKey[n];
            var args = new RedisValue[2 + 2 * n];
            args[0] = leaseId;
            args[1] = decision.Window;
            int k = 0;
            foreach (var c in checks)
            {
                if (c.Kind == LimitKind.Concurrency)
                {
                    args[2 + 2 * k] = Concurrency;
                    args[3 + 2 * k] = Math.Max(0, c.Cost);
                }
                else if (c.Kind == LimitKind.Tokens && tokensUsed != c.Cost)
                {
                    args[2 + 2 * k] = Window;
                    args[3 + 2 * k] = tokensUsed - c.Cost;
                }
                else continue;
                keys[k++] = KeyOf(c.Counter);
            }
            // Sent, not awaited: nothing waits for a settle, and an answer no one reads would cost a task, a result and a
            // continuation per request. A settle Redis never runs (connection lost, script cache gone) loses only its
            // correction, as above; the connection's own failure is logged once, not per settle.
            await _db.ScriptEvaluateAsync(LimitScripts.Settle, keys, args, CommandFlags.FireAndForget);
        }
        catch (Exception e)
        {
            // Losing a settle costs only its correction; the leases then expire by themselves.
            try
            {
                _onSettleFailure?.Invoke(e);
            }
            catch (Exception)
            {
                // A failing observer must not turn a settle into a throw either.
            }
        }
    }

    public async ValueTask RenewAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl) =>
        await RenewCountAsync(checks, leaseId, leaseTtl);

    /// <summary><see cref="RenewAsync"/>, answering how many leases were still held and moved.</summary>
    public async ValueTask<long> RenewCountAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl)
    {
        int n = 0;
        foreach (var c in checks)
            if (c.Kind == LimitKind.Concurrency) n++;
        if (n == 0) return 0;

        var keys = new RedisKey[n];
        var args = new RedisValue[2 + n];
        args[0] = leaseId;
        args[1] = TtlMs(leaseTtl);
        int k = 0;
        foreach (var c in checks)
        {
            if (c.Kind != LimitKind.Concurrency) continue;
            keys[k] = KeyOf(c.Counter);
            args[2 + k++] = Math.Max(0, c.Cost);
        }
        return (long)await _db.ScriptEvaluateAsync(LimitScripts.Renew, keys, args);
    }

    /// <summary>A lease lives at least 1 ms (PEXPIRE with 0 would delete the set at once).</summary>
    private static long TtlMs(TimeSpan ttl) => Math.Max(1, (long)Math.Ceiling(ttl.TotalMilliseconds));
}
