namespace Proxy.Limits;

/// <summary>
/// A shared store behind a deadline and a breaker, so no request waits on a slow or dead store past
/// <paramref name="timeout"/>: when the store fails, limits that fail open are decided by this replica's own counters at
/// limit / <paramref name="replicas"/>, and a request with a limit that fails closed is refused. After
/// <see cref="FailuresToOpen"/> failures in a row the breaker skips the store for <see cref="OpenFor"/>, then lets
/// requests try it again: the shared limits come back without a restart.
/// </summary>
public sealed class GuardedLimitStore(ILimitStore shared, TimeSpan timeout, int replicas, TimeProvider time, Action<string>? onFailure = null) : ILimitStore
{
    public const int FailuresToOpen = StoreBreaker.FailuresToOpen;
    public static readonly TimeSpan OpenFor = StoreBreaker.OpenFor;

    private readonly InMemoryLimitStore _local = new(time, replicas);
    private readonly StoreBreaker _breaker = new(time);

    public string Name => shared.Name;

    /// <summary>Whether requests skip the shared store now (for readiness and tests).</summary>
    public bool BreakerOpen => _breaker.IsOpen;

    public async ValueTask<LimitDecision> AdmitAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl, CancellationToken ct)
    {
        string reason;
        if (BreakerOpen) reason = "breaker open";
        else
        {
            try
            {
                var decision = await shared.AdmitAsync(checks, leaseId, leaseTtl, ct).AsTask().WaitAsync(timeout, time, ct).ConfigureAwait(false);
                _breaker.Succeeded();
                return decision;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                reason = e is TimeoutException ? $"no answer within {timeout.TotalMilliseconds:0}ms" : e.Message;
                _breaker.Failed();
                onFailure?.Invoke(reason);
            }
        }
        foreach (var c in checks)
        {
            if (c.Rule.OnStoreFailure == StoreFailureMode.Closed)
                return new LimitDecision(new LimitState[checks.Length], 0) { StoreFailure = reason, FailedClosed = true };
        }
        var local = await _local.AdmitAsync(checks, leaseId, leaseTtl, ct).ConfigureAwait(false);
        return new LimitDecision(local.States, local.Window) { StoreFailure = reason, Local = true };
    }

    public ValueTask SettleAsync(LimitCheck[] checks, LimitDecision decision, string leaseId, long tokensUsed) =>
        decision.Local ? _local.SettleAsync(checks, decision, leaseId, tokensUsed) : shared.SettleAsync(checks, decision, leaseId, tokensUsed);

    public ValueTask RenewAsync(LimitCheck[] checks, string leaseId, TimeSpan leaseTtl) => shared.RenewAsync(checks, leaseId, leaseTtl);
}
