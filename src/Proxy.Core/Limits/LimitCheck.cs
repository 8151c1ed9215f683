namespace Proxy.Limits;

/// <summary>What a limit counts. Requests and tokens are per minute over a sliding window; concurrency is leases held.</summary>
public enum LimitKind : byte
{
    Requests,
    Tokens,
    Concurrency,
}

/// <summary>Whose limit it is: the calling key, the key's team, or the route called.</summary>
public enum LimitScope : byte
{
    Key,
    Team,
    Route,
}

/// <summary>What the limits stage does when its store cannot answer in time.</summary>
public enum StoreFailureMode : byte
{
    /// <summary>Decide on this replica alone, at the limit divided by the replicas sharing it.</summary>
    Open,

    /// <summary>Refuse with 503: for limits that must never be exceeded (budget-like).</summary>
    Closed,
}

/// <summary>
/// One configured limit of one holder (a key, a team, a route), made once per config load: the request path only
/// pairs it with a cost (<see cref="LimitCheck"/>), so it builds no names.
/// </summary>
public sealed class LimitRule(LimitScope scope, string holder, LimitKind kind, long limit, bool shadow, StoreFailureMode onStoreFailure)
{
    public LimitScope Scope { get; } = scope;
    public string Holder { get; } = holder;
    public LimitKind Kind { get; } = kind;

    /// <summary>Per minute for requests and tokens; leases at once for concurrency.</summary>
    public long Limit { get; } = limit;

    /// <summary>Counted and reported, never refusing: how a new limit is rolled out.</summary>
    public bool Shadow { get; } = shadow;

    public StoreFailureMode OnStoreFailure { get; } = onStoreFailure;

    /// <summary>The counter's name in a store, stable across replicas and reloads: e.g. <c>key:team-a:rpm</c>.</summary>
    public string Counter { get; } = $"{ScopeName(scope)}:{holder}:{KindName(kind)}";

    private readonly string _limitText = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The limit as header text, made once (a replica failing open reports its share, made when asked).</summary>
    public string LimitText(long effective) => effective == Limit ? _limitText : effective.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// A store's own handle on this rule's counter, so it looks the counter up by name once per rule (rules are made once
    /// per config load), not once per request. Holds whatever the store put there; a store checks it is its own.
    /// </summary>
    internal object? StoreHandle;

    /// <summary>How refusals name the limit: "requests per minute of key 'team-a'" (the key's id, never its secret).</summary>
    public string Describe() => $"{KindText(Kind)} of {ScopeName(Scope)} '{Holder}'";

    public static string ScopeName(LimitScope scope) => scope switch
    {
        LimitScope.Key => "key",
        LimitScope.Team => "team",
        _ => "route",
    };

    public static string KindName(LimitKind kind) => kind switch
    {
        LimitKind.Requests => "rpm",
        LimitKind.Tokens => "tpm",
        _ => "concurrency",
    };

    private static string KindText(LimitKind kind) => kind switch
    {
        LimitKind.Requests => "requests per minute",
        LimitKind.Tokens => "tokens per minute",
        _ => "concurrent requests",
    };
}

/// <summary>One rule and what this request costs it (1 request, the token estimate, 1 lease).</summary>
public readonly record struct LimitCheck(LimitRule Rule, long Cost)
{
    public LimitKind Kind => Rule.Kind;
    public long Limit => Rule.Limit;
    public bool Shadow => Rule.Shadow;
    public string Counter => Rule.Counter;
}

/// <summary>One counter after a decision: its limit, what is left of it, and when it is whole again.</summary>
/// <param name="Fits">Whether this request fitted in the counter (a shadow counter that did not fit did not refuse it).</param>
/// <param name="RetryAfter">When a request of the same cost would fit; zero when it fits now.</param>
public readonly record struct LimitState(long Limit, long Remaining, TimeSpan Reset, bool Fits, TimeSpan RetryAfter);

/// <summary>
/// The store's answer for one request: one state per check, in the checks' order, and the window tokens were
/// reserved in (the store's own clock, so settling adjusts the same window on any replica).
/// </summary>
public sealed class LimitDecision(LimitState[] states, long window)
{
    public LimitState[] States { get; } = states;

    /// <summary>The store's window index at admission (seconds since its epoch); settling adjusts that window.</summary>
    public long Window { get; } = window;

    /// <summary>Why the shared store could not decide (timeout, broken connection, breaker open); null when it did.</summary>
    public string? StoreFailure { get; init; }

    /// <summary>Decided by this replica's own counters (the shared store failed and the limits fail open): settle here too.</summary>
    public bool Local { get; init; }

    /// <summary>The shared store failed and a limit of this request fails closed: refused 503, nothing taken.</summary>
    public bool FailedClosed { get; init; }

    /// <summary>Admitted when every enforced check fits (shadow checks never refuse).</summary>
    public bool Admitted(ReadOnlySpan<LimitCheck> checks)
    {
        if (FailedClosed) return false;
        for (int i = 0; i < checks.Length; i++)
            if (!States[i].Fits && !checks[i].Shadow) return false;
        return true;
    }
}
