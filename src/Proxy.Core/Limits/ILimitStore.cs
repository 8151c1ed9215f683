namespace Proxy.Limits;

/// <summary>
/// Where the limit counters live: in this process (<see cref="InMemoryLimitStore"/>, the embedded default) or shared
/// by every replica (the Redis store, plugged in by name). Requests and tokens are counted per minute in a sliding
/// window of 60 one-second slots, on the store's own clock; concurrency is leases that expire unless renewed.
/// </summary>
public interface ILimitStore
{
    /// <summary>The name in config and metrics: <c>memory</c>, <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Decides one request in one step (one round trip for a remote store): when every enforced check fits, takes the
    /// cost from every check (windows get the cost in the current slot, concurrency checks a lease named
    /// <paramref name="leaseId"/> that lives <paramref name="leaseTtl"/>); otherwise takes nothing. Shadow checks
    /// that do not fit do not refuse; they are taken from too when the request is admitted.
    /// </summary>
    ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct);

    /// <summary>
    /// After the answer: each token check's reservation is corrected to <paramref name="tokensUsed"/> (in the window
    /// it was taken in while that window counts; a growth past it lands in the current slot), and the request's leases
    /// are released. Never throws: a store that fails here loses only the correction (leases then expire).
    /// </summary>
    ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed);

    /// <summary>Extends the request's leases by <paramref name="leaseTtl"/> (a long stream's heartbeat).</summary>
    ValueTask RenewAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl);
}
