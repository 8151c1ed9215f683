using System.Collections.Concurrent;

namespace Proxy.Limits;

/// <summary>
/// The heartbeat of concurrency leases in a shared store: every third of the lease's life, each request still in flight
/// renews its leases, so a stream of any length keeps its slot while a replica that dies loses its slots within one
/// lease life. One timer for the process, not one per request.
/// </summary>
public sealed class LeaseRenewer : IDisposable
{
    private readonly ConcurrentDictionary<string, (ILimitStore Store, LimitCheck[] Checks)> _held = new(StringComparer.Ordinal);
    private readonly ITimer _timer;
    private readonly TimeSpan _ttl;
    private int _running;

    public LeaseRenewer(TimeProvider time, TimeSpan leaseTtl)
    {
        _ttl = leaseTtl;
        var period = leaseTtl / 3;
        _timer = time.CreateTimer(static s => ((LeaseRenewer)s!).Tick(), this, period, period);
    }

    public int Held => _held.Count;

    public void Hold(ILimitStore store, LimitCheck[] checks, string leaseId) => _held[leaseId] = (store, checks);

    public void Release(string leaseId) => _held.TryRemove(leaseId, out _);

    private void Tick()
    {
        // A slow store must not stack renewals: one round at a time.
        if (Interlocked.Exchange(ref _running, 1) == 1) return;
        _ = RenewAllAsync();
    }

    private async Task RenewAllAsync()
    {
        try
        {
            foreach (var (leaseId, held) in _held)
            {
                try
                {
                    await held.Store.RenewAsync(held.Checks, leaseId, _ttl).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // The store is failing: the lease may lapse, and the request goes on; limits fail as configured.
                }
            }
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public void Dispose() => _timer.Dispose();
}
