using Proxy.Budgets;
using StackExchange.Redis;

namespace Proxy.Redis;

/// <summary>
/// The budget store shared by every replica: each budget's counters are Redis keys
/// <c>{prefix}:budget:&lt;scope&gt;:&lt;holder&gt;:&lt;d|m|h&gt;:&lt;start&gt;</c> (the period's start on Redis's
/// clock, in Unix seconds), charged with INCRBY and expiring past the period's end. A read or a charge is one round
/// trip running one script from <see cref="BudgetScripts"/>. No timeout, breaker or fallback here: the caller wraps the
/// store (<see cref="GuardedBudgetStore"/>), so failures come out as exceptions.
/// </summary>
public sealed class RedisBudgetStore : IBudgetStore
{
    private readonly IDatabase _db;
    private readonly string _keyPrefix;

    public RedisBudgetStore(IDatabase db, string prefix = RedisLimitStore.DefaultPrefix)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        _db = db;
        _keyPrefix = "{" + prefix + "}:";
    }

    public RedisBudgetStore(IConnectionMultiplexer redis, string prefix = RedisLimitStore.DefaultPrefix)
        : this(redis.GetDatabase(), prefix)
    {
    }

    public string Name => "redis";

    /// <summary>A budget's base name, e.g. <c>{llmgw}:budget:key:team-a:m</c>; its counters append <c>:&lt;start&gt;</c>.</summary>
    public RedisKey KeyOf(BudgetRule rule) => _keyPrefix + rule.Counter;

    public async ValueTask<BudgetReading> ReadAsync(BudgetRule[] rules, CancellationToken ct)
    {
        var keys = new RedisKey[rules.Length];
        var args = new RedisValue[2 * rules.Length];
        for (int i = 0; i < rules.Length; i++)
        {
            keys[i] = KeyOf(rules[i]);
            args[2 * i] = (int)rules[i].Period.Kind;
            args[2 * i + 1] = rules[i].Period.Hours;
        }
        return Parse(await EvaluateAsync(BudgetScripts.Read, keys, args, ct), rules.Length);
    }

    public async ValueTask<BudgetReading> ChargeAsync(BudgetRule[] rules, long nanoUsd, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nanoUsd);
        var keys = new RedisKey[rules.Length];
        var args = new RedisValue[1 + 2 * rules.Length];
        args[0] = nanoUsd;
        for (int i = 0; i < rules.Length; i++)
        {
            keys[i] = KeyOf(rules[i]);
            args[1 + 2 * i] = (int)rules[i].Period.Kind;
            args[2 + 2 * i] = rules[i].Period.Hours;
        }
        return Parse(await EvaluateAsync(BudgetScripts.Charge, keys, args, ct), rules.Length);
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args, CancellationToken ct)
    {
        var pending = _db.ScriptEvaluateAsync(script, keys, args);
        return ct.CanBeCanceled ? await pending.WaitAsync(ct) : await pending;
    }

    private static BudgetReading Parse(RedisResult result, int n)
    {
        var answer = (long[]?)result ?? throw new InvalidOperationException("the budget script returned nothing");
        if (answer.Length != 1 + 2 * n)
            throw new InvalidOperationException($"the budget script returned {answer.Length} numbers for {n} budgets");
        var states = new BudgetState[n];
        for (int i = 0; i < n; i++)
            states[i] = new BudgetState(answer[1 + 2 * i], DateTimeOffset.FromUnixTimeSeconds(answer[2 + 2 * i]));
        return new BudgetReading(states, DateTimeOffset.FromUnixTimeMilliseconds(answer[0]));
    }
}
